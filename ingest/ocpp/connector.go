package ocpp

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/lifang-community/lifang/reading"
)

// ConnectorState is what the central system knows of one connector right now.
type ConnectorState struct {
	ChargePoint string
	Connector   int
	Online      bool      // the charge point's websocket is connected
	LastSeen    time.Time // time of the last message from the charge point (the central system's clock)
	// Status is the last StatusNotification status: "Available", "Preparing",
	// "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Faulted", … ("" if none yet).
	Status       string
	Transaction  int       // open transaction id, 0 if none
	MeterStartWh float64   // meterStart of the open transaction (Wh), 0 if none
	MeterWh      float64   // last Energy.Active.Import.Register reading (Wh) of the connector, or meterStart
	PowerW       float64   // last Power.Active.Import reading (W), 0 if none
	MeterTime    time.Time // timestamp of the MeterWh value (the charger's timestamp)
	// What the EV driver declared in a SessionIntent (intent.go); zero when unknown.
	DepartureTime time.Time
	EnergyNeedKWh float64
	MaxPowerKW    float64 // the most the EV takes, kW
}

// connKey identifies a connector of a charge point.
type connKey struct {
	cp        string
	connector int
}

// pointState is what the central system knows of a charge point as a whole.
type pointState struct {
	online   bool
	lastSeen time.Time
	// turn is held (one element in it) by the command in progress on this charge point
	// and until the charger answered, or gave up on, that command's last request: ocpp-go
	// sends one request per charger at a time, so a second command's request would
	// otherwise wait in ocpp-go's queue, out of reach of its own timeout.
	turn chan struct{}
	// powerTime is the charger's timestamp of each connector's PowerW.
	powerTime map[int]time.Time
}

// Connectors returns the state of every connector ever seen (in a StatusNotification,
// a transaction, meter values or a session intent; connector 0, the charge point as a
// whole, is not a connector), sorted by charge point then connector.
func (c *CentralSystem) Connectors() []ConnectorState {
	c.smu.Lock()
	defer c.smu.Unlock()
	out := make([]ConnectorState, 0, len(c.conns))
	for k, s := range c.conns {
		out = append(out, c.stateLocked(k, s))
	}
	slices.SortFunc(out, func(a, b ConnectorState) int {
		return cmp.Or(cmp.Compare(a.ChargePoint, b.ChargePoint), cmp.Compare(a.Connector, b.Connector))
	})
	return out
}

// Connector returns the state of one connector, and false if it was never seen.
func (c *CentralSystem) Connector(cp string, connector int) (ConnectorState, bool) {
	c.smu.Lock()
	defer c.smu.Unlock()
	k := connKey{cp, connector}
	s, ok := c.conns[k]
	if !ok {
		return ConnectorState{}, false
	}
	return c.stateLocked(k, s), true
}

// Online reports whether the charge point's websocket is connected.
func (c *CentralSystem) Online(cp string) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	p := c.points[cp]
	return p != nil && p.online
}

func (c *CentralSystem) stateLocked(k connKey, s *ConnectorState) ConnectorState {
	out := *s
	if p := c.points[k.cp]; p != nil {
		out.Online, out.LastSeen = p.online, p.lastSeen
	}
	return out
}

// pointLocked returns the charge point's state, creating it.
func (c *CentralSystem) pointLocked(cp string) *pointState {
	p := c.points[cp]
	if p == nil {
		p = &pointState{turn: make(chan struct{}, 1), powerTime: map[int]time.Time{}}
		c.points[cp] = p
	}
	return p
}

// connLocked returns the connector's state, creating it; nil for connector 0 or less.
func (c *CentralSystem) connLocked(cp string, connector int) *ConnectorState {
	if connector < 1 {
		return nil
	}
	k := connKey{cp, connector}
	s := c.conns[k]
	if s == nil {
		s = &ConnectorState{ChargePoint: cp, Connector: connector}
		c.conns[k] = s
	}
	return s
}

// connected records a websocket connecting or going away.
func (c *CentralSystem) connected(cp string, online bool) {
	c.smu.Lock()
	defer c.smu.Unlock()
	p := c.pointLocked(cp)
	p.online = online
	if online {
		p.lastSeen = c.now()
	}
}

// seen records that a message came from the charge point.
func (c *CentralSystem) seen(cp string) {
	c.smu.Lock()
	defer c.smu.Unlock()
	c.pointLocked(cp).lastSeen = c.now()
}

func (c *CentralSystem) trackStatus(cp string, connector int, status string) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if s := c.connLocked(cp, connector); s != nil {
		s.Status = status
	}
}

func (c *CentralSystem) trackStart(cp string, connector, tx, meterStartWh int, at time.Time) {
	c.smu.Lock()
	defer c.smu.Unlock()
	s := c.connLocked(cp, connector)
	if s == nil {
		return
	}
	// An intent declared for another transaction, or for none before this one, stays: the
	// driver may declare before plugging in; one for a different transaction does not.
	s.Transaction, s.MeterStartWh = tx, float64(meterStartWh)
	s.MeterWh, s.MeterTime = float64(meterStartWh), at
	s.PowerW = 0
	c.pointLocked(cp).powerTime[connector] = at
}

// trackStop closes the transaction on its connector (found by id when the connector is
// not known) and forgets the session intent.
func (c *CentralSystem) trackStop(cp string, connector, tx, meterStopWh int, at time.Time) {
	c.smu.Lock()
	defer c.smu.Unlock()
	var s *ConnectorState
	if connector >= 1 {
		s = c.connLocked(cp, connector)
	} else {
		for k, cs := range c.conns {
			if k.cp == cp && cs.Transaction == tx {
				s = cs
				break
			}
		}
	}
	if s == nil {
		return
	}
	s.Transaction, s.MeterStartWh = 0, 0
	s.DepartureTime, s.EnergyNeedKWh, s.MaxPowerKW = time.Time{}, 0, 0
	if !at.Before(s.MeterTime) {
		s.MeterWh, s.MeterTime = float64(meterStopWh), at
	}
	s.PowerW = 0
}

// trackLost forgets a connector's transaction whose stop never arrived.
func (c *CentralSystem) trackLost(cp string, connector int) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if s := c.conns[connKey{cp, connector}]; s != nil {
		s.Transaction, s.MeterStartWh = 0, 0
		s.DepartureTime, s.EnergyNeedKWh, s.MaxPowerKW = time.Time{}, 0, 0
		s.PowerW = 0
	}
}

// trackReadings keeps the newest energy register and active power readings of each
// connector; older ones (a charger replaying queued messages) do not overwrite them.
func (c *CentralSystem) trackReadings(cp string, rs []reading.Reading) {
	c.smu.Lock()
	defer c.smu.Unlock()
	p := c.pointLocked(cp)
	for _, r := range rs {
		connector, measure, ok := splitPoint(cp, r.Point)
		if !ok {
			continue
		}
		scale := 1.0
		if r.Unit == "kWh" || r.Unit == "kW" {
			scale = 1000
		}
		switch {
		case measure == measurands[types.MeasurandEnergyActiveImportRegister].name && (r.Unit == "Wh" || r.Unit == "kWh"):
			s := c.connLocked(cp, connector)
			if s != nil && !r.Time.Before(s.MeterTime) {
				s.MeterWh, s.MeterTime = r.Value*scale, r.Time
			}
		case measure == measurands[types.MeasurandPowerActiveImport].name && (r.Unit == "W" || r.Unit == "kW"):
			s := c.connLocked(cp, connector)
			if s != nil && !r.Time.Before(p.powerTime[connector]) {
				s.PowerW = r.Value * scale
				p.powerTime[connector] = r.Time
			}
		}
	}
}

// splitPoint splits "<cp>/<connector>/<measure>" (metervalue.go's point names).
func splitPoint(cp, point string) (connector int, measure string, ok bool) {
	rest, found := strings.CutPrefix(point, cp+"/")
	if !found {
		return 0, "", false
	}
	n, measure, found := strings.Cut(rest, "/")
	if !found {
		return 0, "", false
	}
	connector, err := strconv.Atoi(n)
	if err != nil || connector < 1 {
		return 0, "", false
	}
	return connector, measure, true
}

// trackIntent records a session intent on its connector.
func (c *CentralSystem) trackIntent(cp string, in SessionIntent) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if s := c.connLocked(cp, in.Connector); s != nil {
		s.DepartureTime, s.EnergyNeedKWh, s.MaxPowerKW = in.Departure, in.EnergyNeedKWh, in.MaxPowerKW
	}
}

// openTransaction is the connector's open transaction id, 0 if none.
func (c *CentralSystem) openTransaction(cp string, connector int) int {
	c.smu.Lock()
	defer c.smu.Unlock()
	if s := c.conns[connKey{cp, connector}]; s != nil {
		return s.Transaction
	}
	return 0
}
