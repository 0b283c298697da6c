package evse

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

var t0 = time.Date(2031, 6, 1, 10, 0, 0, 0, time.UTC)

// elec32 is a 32 A three-phase charger at 230 V: 22 080 W.
var elec32 = electrical{phases: 3, voltageV: 230, maxW: 32 * 3 * 230}

// prof is an Absolute profile starting at t0 with periods (startPeriod, limit) pairs.
func prof(id, connector, stack int, purpose types.ChargingProfilePurposeType, unit types.ChargingRateUnitType, periods ...float64) installed {
	var ps []types.ChargingSchedulePeriod
	for i := 0; i+1 < len(periods); i += 2 {
		ps = append(ps, types.NewChargingSchedulePeriod(int(periods[i]), periods[i+1]))
	}
	s := types.NewChargingSchedule(unit, ps...)
	s.StartSchedule = types.NewDateTime(t0)
	return installed{connector: connector, received: t0, p: *types.NewChargingProfile(id, stack, purpose, types.ChargingProfileKindAbsolute, s)}
}

const (
	txp  = types.ChargingProfilePurposeTxProfile
	txd  = types.ChargingProfilePurposeTxDefaultProfile
	cpm  = types.ChargingProfilePurposeChargePointMaxProfile
	watt = types.ChargingRateUnitWatts
	amp  = types.ChargingRateUnitAmperes
)

// with is a copy of in (its schedule too) changed by f.
func with(in installed, f func(*installed)) installed {
	s := *in.p.ChargingSchedule
	s.ChargingSchedulePeriod = slices.Clone(s.ChargingSchedulePeriod)
	in.p.ChargingSchedule = &s
	f(&in)
	return in
}

func TestComposite(t *testing.T) {
	tx5 := func(in installed) installed { return with(in, func(in *installed) { in.p.TransactionId = 5 }) }
	dur := func(s int) func(*installed) {
		return func(in *installed) { in.p.ChargingSchedule.Duration = &s }
	}
	one := 1
	tests := []struct {
		name      string
		elec      electrical
		ps        []installed
		connector int
		at        time.Time
		tx        int
		want      float64
	}{
		{"nothing: the maximum", elec32, nil, 1, t0, 0, 22080},
		{"nothing: the default", electrical{phases: 3, voltageV: 230, maxW: 22080, defaultW: 3680}, nil, 1, t0, 0, 3680},
		{"TxDefault on connector 0", elec32, []installed{prof(1, 0, 0, txd, watt, 0, 7000)}, 2, t0, 0, 7000},
		{"TxDefault of the connector over connector 0", elec32,
			[]installed{prof(1, 0, 5, txd, watt, 0, 7000), prof(2, 1, 0, txd, watt, 0, 5000)}, 1, t0, 0, 5000},
		{"connector 0's for another connector", elec32,
			[]installed{prof(1, 0, 5, txd, watt, 0, 7000), prof(2, 1, 0, txd, watt, 0, 5000)}, 2, t0, 0, 7000},
		{"TxProfile over TxDefault", elec32,
			[]installed{prof(1, 1, 0, txd, watt, 0, 5000), tx5(prof(2, 1, 0, txp, watt, 0, 4000))}, 1, t0, 5, 4000},
		{"TxProfile of another transaction", elec32,
			[]installed{prof(1, 1, 0, txd, watt, 0, 5000), tx5(prof(2, 1, 0, txp, watt, 0, 4000))}, 1, t0, 6, 5000},
		{"highest stack level", elec32,
			[]installed{prof(1, 1, 1, txd, watt, 0, 6000), prof(2, 1, 2, txd, watt, 0, 3000)}, 1, t0, 0, 3000},
		{"higher stack level expired", elec32,
			[]installed{prof(1, 1, 1, txd, watt, 0, 6000), with(prof(2, 1, 2, txd, watt, 0, 3000), dur(60))}, 1, t0.Add(time.Minute), 0, 6000},
		{"ChargePointMax caps", elec32,
			[]installed{prof(1, 1, 0, txd, watt, 0, 7000), prof(2, 0, 0, cpm, watt, 0, 4000)}, 1, t0, 0, 4000},
		{"ChargePointMax caps the default", elec32, []installed{prof(2, 0, 0, cpm, amp, 0, 10)}, 1, t0, 0, 6900},
		{"amperes on every phase", elec32, []installed{prof(1, 1, 0, txd, amp, 0, 16)}, 1, t0, 0, 11040},
		{"amperes on one phase", elec32, []installed{with(prof(1, 1, 0, txd, amp, 0, 16), func(in *installed) {
			in.p.ChargingSchedule.ChargingSchedulePeriod[0].NumberPhases = &one
		})}, 1, t0, 0, 3680},
		{"above the maximum", elec32, []installed{prof(1, 1, 0, txd, watt, 0, 40000)}, 1, t0, 0, 22080},
		{"not started yet", elec32, []installed{prof(1, 1, 0, txd, watt, 0, 1000)}, 1, t0.Add(-time.Second), 0, 22080},
		{"second period", elec32, []installed{prof(1, 1, 0, txd, watt, 0, 11000, 600, 7000)}, 1, t0.Add(10 * time.Minute), 0, 7000},
		{"first period still", elec32, []installed{prof(1, 1, 0, txd, watt, 0, 11000, 600, 7000)}, 1, t0.Add(599 * time.Second), 0, 11000},
		{"validTo passed", elec32, []installed{with(prof(1, 1, 0, txd, watt, 0, 1000), func(in *installed) {
			in.p.ValidTo = types.NewDateTime(t0.Add(time.Hour))
		})}, 1, t0.Add(time.Hour), 0, 22080},
		{"validFrom ahead", elec32, []installed{with(prof(1, 1, 0, txd, watt, 0, 1000), func(in *installed) {
			in.p.ValidFrom = types.NewDateTime(t0.Add(time.Hour))
		})}, 1, t0, 0, 22080},
		{"recurring daily, the next day", elec32, []installed{with(prof(1, 1, 0, txd, watt, 0, 3000, 8*3600, 11000), func(in *installed) {
			in.p.ChargingProfileKind, in.p.RecurrencyKind = types.ChargingProfileKindRecurring, types.RecurrencyKindDaily
		})}, 1, t0.Add(24*time.Hour + time.Hour), 0, 3000},
		{"recurring daily, later that day", elec32, []installed{with(prof(1, 1, 0, txd, watt, 0, 3000, 8*3600, 11000), func(in *installed) {
			in.p.ChargingProfileKind, in.p.RecurrencyKind = types.ChargingProfileKindRecurring, types.RecurrencyKindDaily
		})}, 1, t0.Add(48*time.Hour + 9*time.Hour), 0, 11000},
		{"absolute without start: from receipt", elec32, []installed{with(prof(1, 1, 0, txd, watt, 0, 2000), func(in *installed) {
			in.p.ChargingSchedule.StartSchedule = nil
		})}, 1, t0, 0, 2000},
	}
	for _, tt := range tests {
		if got := tt.elec.composite(tt.ps, tt.connector, tt.at, tt.tx, tt.at); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: %v W, want %v", tt.name, got, tt.want)
		}
	}
	// Relative: from the transaction's start.
	rel := with(prof(1, 1, 0, txd, watt, 0, 11000, 3600, 0), func(in *installed) {
		in.p.ChargingProfileKind = types.ChargingProfileKindRelative
		in.p.ChargingSchedule.StartSchedule = nil
	})
	txStart := t0.Add(5 * time.Hour)
	if got := elec32.composite([]installed{rel}, 1, txStart.Add(2*time.Hour), 7, txStart); got != 0 {
		t.Errorf("relative after 2 h: %v", got)
	}
	if got := elec32.composite([]installed{rel}, 1, txStart.Add(time.Minute), 7, txStart); got != 11000 {
		t.Errorf("relative after 1 min: %v", got)
	}
}

func TestCompositeSchedule(t *testing.T) {
	d := 1200
	ps := []installed{
		with(prof(1, 1, 0, txd, watt, 0, 11000, 600, 7000), func(in *installed) { in.p.ChargingSchedule.Duration = &d }),
		with(prof(2, 0, 0, cpm, watt, 0, 9000), func(in *installed) { in.p.ValidFrom = types.NewDateTime(t0.Add(300 * time.Second)) }),
	}
	e := elec32
	e.defaultW = 3000
	got := e.compositeSchedule(ps, 1, t0, 3600, 0, t0)
	want := []period{{0, 11000}, {300, 9000}, {600, 7000}, {1200, 3000}}
	if len(got) != len(want) {
		t.Fatalf("%+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%+v, want %+v", got, want)
			break
		}
	}
	// Half-way through the first period.
	got = e.compositeSchedule(ps, 1, t0.Add(100*time.Second), 600, 0, t0)
	if len(got) != 3 || got[0] != (period{0, 11000}) || got[1] != (period{200, 9000}) || got[2] != (period{500, 7000}) {
		t.Errorf("from +100 s: %+v", got)
	}
	// Nothing installed: one period of the default.
	if got := e.compositeSchedule(nil, 1, t0, 0, 0, t0); len(got) != 1 || got[0] != (period{0, 3000}) {
		t.Errorf("empty: %+v", got)
	}
	// A daily profile over a week: a bounded number of steps.
	daily := with(prof(3, 1, 0, txd, watt, 0, 3000, 8*3600, 11000), func(in *installed) {
		in.p.ChargingProfileKind, in.p.RecurrencyKind = types.ChargingProfileKindRecurring, types.RecurrencyKindDaily
	})
	if got := e.compositeSchedule([]installed{daily}, 1, t0, 7*86400, 0, t0); len(got) != 14 {
		t.Errorf("daily over a week: %d steps: %+v", len(got), got)
	}
}

func TestInstallAndClear(t *testing.T) {
	var ps []installed
	add := func(in installed) {
		t.Helper()
		var err error
		if ps, err = install(ps, in); err != nil {
			t.Fatal(err)
		}
	}
	add(prof(1, 1, 1, txd, watt, 0, 1000))
	add(prof(1, 1, 1, txd, watt, 0, 2000)) // same id
	add(prof(2, 1, 1, txd, watt, 0, 3000)) // same connector, purpose, stack level
	add(prof(3, 1, 2, txd, watt, 0, 4000))
	add(prof(4, 2, 1, txd, watt, 0, 5000))
	if len(ps) != 3 || ps[0].p.ChargingProfileId != 2 {
		t.Fatalf("%+v", ps)
	}
	for i := len(ps); i < MaxProfilesInstalled; i++ {
		add(prof(100+i, 0, 0, cpm, watt, 0, 1)) // replaced each time: same purpose and stack
	}
	for i := 0; len(ps) < MaxProfilesInstalled; i++ {
		add(prof(200+i, 1, 3+i%8, txd, watt, 0, 1))
		add(prof(300+i, 2, 3+i%8, txd, watt, 0, 1))
	}
	if _, err := install(ps, prof(999, 0, 5, txd, watt, 0, 1)); err == nil {
		t.Error("more than MaxProfilesInstalled")
	}

	ps = []installed{prof(1, 1, 1, txd, watt, 0, 1), prof(2, 1, 2, txd, watt, 0, 1), prof(3, 2, 1, txd, watt, 0, 1),
		with(prof(4, 1, 1, txp, watt, 0, 1), func(in *installed) { in.p.TransactionId = 9 })}
	id, conn, lvl := 3, 1, 1
	var n int
	if _, n = clearProfiles(slices.Clone(ps), clearCriteria{id: &id, connector: &conn}); n != 1 {
		t.Errorf("by id (connector ignored): %d", n)
	}
	if _, n = clearProfiles(slices.Clone(ps), clearCriteria{connector: &conn, stackLevel: &lvl}); n != 2 {
		t.Errorf("by connector and stack level: %d", n)
	}
	if _, n = clearProfiles(slices.Clone(ps), clearCriteria{purpose: txp}); n != 1 {
		t.Errorf("by purpose: %d", n)
	}
	if _, n = clearProfiles(slices.Clone(ps), clearCriteria{}); n != 4 {
		t.Errorf("all: %d", n)
	}
	missing := 77
	if _, n = clearProfiles(slices.Clone(ps), clearCriteria{id: &missing}); n != 0 {
		t.Errorf("unknown id: %d", n)
	}
	if got := dropTransaction(slices.Clone(ps), 9); len(got) != 3 {
		t.Errorf("drop transaction: %+v", got)
	}
}

func TestValidateProfile(t *testing.T) {
	ok := prof(1, 1, 0, txd, watt, 0, 1000)
	zero := 0
	tests := []struct {
		name      string
		connector int
		in        installed
		tx        int
		err       string
	}{
		{"valid", 1, ok, 0, ""},
		{"TxProfile", 1, prof(1, 1, 0, txp, watt, 0, 1000), 3, ""},
		{"TxProfile for the open transaction", 1, with(prof(1, 1, 0, txp, watt, 0, 1000), func(in *installed) { in.p.TransactionId = 3 }), 3, ""},
		{"TxProfile without transaction", 1, prof(1, 1, 0, txp, watt, 0, 1000), 0, "no transaction"},
		{"TxProfile for another transaction", 1, with(prof(1, 1, 0, txp, watt, 0, 1000), func(in *installed) { in.p.TransactionId = 4 }), 3, "transaction 3 is open"},
		{"TxProfile on connector 0", 0, prof(1, 0, 0, txp, watt, 0, 1000), 0, "connector 0"},
		{"ChargePointMax on a connector", 1, prof(1, 1, 0, cpm, watt, 0, 1000), 0, "only on connector 0"},
		{"no such connector", 3, ok, 0, "the charger has"},
		{"stack level", 1, with(ok, func(in *installed) { in.p.StackLevel = MaxStackLevel + 1 }), 0, "stackLevel"},
		{"first period", 1, prof(1, 1, 0, txd, watt, 60, 1000), 0, "want 0"},
		{"periods out of order", 1, prof(1, 1, 0, txd, watt, 0, 1000, 600, 1, 600, 2), 0, "not after"},
		{"negative limit", 1, prof(1, 1, 0, txd, watt, 0, -1), 0, "limit"},
		{"phases", 1, with(ok, func(in *installed) { in.p.ChargingSchedule.ChargingSchedulePeriod[0].NumberPhases = &zero }), 0, "numberPhases"},
		{"unit", 1, prof(1, 1, 0, txd, "kW", 0, 1), 0, "chargingRateUnit"},
		{"recurring without kind", 1, with(ok, func(in *installed) { in.p.ChargingProfileKind = types.ChargingProfileKindRecurring }), 0, "recurrencyKind"},
		{"validity", 1, with(ok, func(in *installed) {
			in.p.ValidFrom, in.p.ValidTo = types.NewDateTime(t0), types.NewDateTime(t0)
		}), 0, "validTo"},
	}
	for _, tt := range tests {
		p := tt.in.p
		err := validateProfile(tt.connector, 2, &p, tt.tx)
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
		}
	}
}
