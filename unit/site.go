package unit

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Site commissions a unit for live operation (`lifang operate`, `lifang sitesim`): it
// binds the unit's assets to the points and endpoints of the real devices. A unit
// without a site section can be simulated but not operated.
type Site struct {
	// MQTT is the broker the meters, the tank, the appliance groups and the car-park
	// gates speak through (topics in ingest/mqtt/doc.go and site/doc.go).
	MQTT SiteMQTT `yaml:"mqtt"`
	// OCPP is the central system the chargers connect to.
	OCPP SiteOCPP `yaml:"ocpp,omitempty"`
	// Safety holds the limits and watchdog enforced whatever the policy says.
	Safety Safety `yaml:"safety,omitempty"`

	Meters     []SiteMeter     `yaml:"meters"`
	Batteries  []SiteBattery   `yaml:"batteries,omitempty"`
	Chargers   []SiteCharger   `yaml:"chargers,omitempty"`
	Tanks      []SiteTank      `yaml:"tanks,omitempty"`
	Appliances []SiteAppliance `yaml:"appliances,omitempty"`
	Lots       []SiteLot       `yaml:"lots,omitempty"`
}

// SiteMQTT is an MQTT broker.
type SiteMQTT struct {
	Broker string `yaml:"broker"` // tcp://host:port
}

// SiteOCPP is lifang's OCPP 1.6J central system.
type SiteOCPP struct {
	// Listen is ws://host:port; a charger connects to ws://host:port/<ocpp_id>.
	Listen string `yaml:"listen"`
}

// Safety is enforced in the actuation layer, after the policy.
type Safety struct {
	// MaxStalenessMinutes: a device whose data is older goes to its safe state [90].
	MaxStalenessMinutes int `yaml:"max_staleness_minutes,omitempty"`
	// CommandTimeoutS bounds one command's answer (ack, register read-back) [10].
	CommandTimeoutS int `yaml:"command_timeout_s,omitempty"`
	// MaxCommandsPerHour per device; commands beyond it are not sent (logged) [12].
	MaxCommandsPerHour int `yaml:"max_commands_per_hour,omitempty"`
	// ImportLimitKW caps site import (0: grid.transformer_kva × power_factor).
	ImportLimitKW float64 `yaml:"import_limit_kw,omitempty"`
}

// SiteMeter is an electricity meter whose readings arrive over MQTT as points
// "<id>/elec/active_power" (kW) and the cumulative registers
// "<id>/elec/active_energy_import" and "<id>/elec/active_energy_export" (kWh).
type SiteMeter struct {
	ID string `yaml:"id"`
	// Role: grid (the point of connection: its registers are what is billed), load
	// (the non-shiftable consumption of Buildings), pv (generation of PV), flex (the
	// shiftable appliance circuits) or household (one dwelling: never used for control).
	Role      string   `yaml:"role"`
	Buildings []string `yaml:"buildings,omitempty"` // role load
	PV        []string `yaml:"pv,omitempty"`        // role pv: unit pv array names
	// HouseholdLevel marks a meter that measures one household: its data is personal
	// (privacy rules apply) and it is reported only in aggregates.
	HouseholdLevel bool `yaml:"household_level,omitempty"`
	// Import and Export name the meter's cumulative registers when they are not
	// "<id>/elec/active_energy_import" and "…_export" (a meter already named in the
	// ledger under other points).
	Import string `yaml:"import,omitempty"`
	Export string `yaml:"export,omitempty"`
}

// ImportPoint is the point of the meter's cumulative import register (kWh).
func (m SiteMeter) ImportPoint() string {
	if m.Import != "" {
		return m.Import
	}
	return m.ID + "/elec/active_energy_import"
}

// ExportPoint is the point of the meter's cumulative export register (kWh).
func (m SiteMeter) ExportPoint() string {
	if m.Export != "" {
		return m.Export
	}
	return m.ID + "/elec/active_energy_export"
}

// SiteBattery binds a unit battery to a Modbus TCP BESS (register map in
// ingest/modbus/doc.go).
type SiteBattery struct {
	Battery string `yaml:"battery"` // unit battery name
	Modbus  string `yaml:"modbus"`  // host:port
	UnitID  int    `yaml:"unit_id,omitempty"`
	// RegisterMap names the device's map: "lifang" (the reference map) [lifang].
	RegisterMap string `yaml:"register_map,omitempty"`
	// CommTimeoutS is written to the BESS: without a command for this long it goes to
	// standby by itself, so a lost link stops it within one step [one step + 300 s].
	CommTimeoutS int `yaml:"comm_timeout_s,omitempty"`
}

// SiteCharger binds one of the unit's charging points ("<group>/<k>", or the group
// name when count is 1) to an OCPP charge point's connector.
type SiteCharger struct {
	Charger     string  `yaml:"charger"`
	OCPPID      string  `yaml:"ocpp_id"`
	Connector   int     `yaml:"connector,omitempty"`     // [1]
	MaxCurrentA float64 `yaml:"max_current_a"`           // per phase
	Phases      int     `yaml:"phases,omitempty"`        // 1 or 3 [1]
	VoltageV    float64 `yaml:"voltage_v,omitempty"`     // phase voltage [230]
	LimitUnit   string  `yaml:"limit_unit,omitempty"`    // W or A: how limits are sent [A]
	SafeLimitA  float64 `yaml:"safe_limit_a,omitempty"`  // the limit when lifang cannot decide [max_current_a]
	MinCurrentA float64 `yaml:"min_current_a,omitempty"` // IEC 61851: below it a charger pauses [6]
}

// SiteTank binds the unit's rainwater store to an MQTT device: level reading
// "<device>/water/volume" (m³) and release commands.
type SiteTank struct {
	Device string `yaml:"device"`
}

// SiteAppliance binds a flexible load group to an MQTT device that announces runs
// waiting for permission and takes start commands.
type SiteAppliance struct {
	Group  string `yaml:"group"` // unit flexible_loads name
	Device string `yaml:"device"`
}

// SiteLot binds a car park to the MQTT device (gate controller) that takes prices.
type SiteLot struct {
	Lot    string `yaml:"lot"`
	Device string `yaml:"device"`
}

// Defaults of the site section.
const (
	DefaultMaxStalenessMinutes = 90
	DefaultCommandTimeoutS     = 10
	DefaultMaxCommandsPerHour  = 12
	DefaultChargerPhases       = 1
	DefaultChargerVoltageV     = 230
	DefaultMinCurrentA         = 6
)

func (s *Site) applyDefaults(stepMinutes int) {
	sf := &s.Safety
	if sf.MaxStalenessMinutes == 0 {
		sf.MaxStalenessMinutes = DefaultMaxStalenessMinutes
	}
	if sf.CommandTimeoutS == 0 {
		sf.CommandTimeoutS = DefaultCommandTimeoutS
	}
	if sf.MaxCommandsPerHour == 0 {
		sf.MaxCommandsPerHour = DefaultMaxCommandsPerHour
	}
	for i := range s.Batteries {
		b := &s.Batteries[i]
		if b.UnitID == 0 {
			b.UnitID = 1
		}
		if b.RegisterMap == "" {
			b.RegisterMap = "lifang"
		}
		if b.CommTimeoutS == 0 {
			b.CommTimeoutS = 60*stepMinutes + 300
		}
	}
	for i := range s.Chargers {
		c := &s.Chargers[i]
		if c.Connector == 0 {
			c.Connector = 1
		}
		if c.Phases == 0 {
			c.Phases = DefaultChargerPhases
		}
		if c.VoltageV == 0 {
			c.VoltageV = DefaultChargerVoltageV
		}
		if c.LimitUnit == "" {
			c.LimitUnit = "A"
		}
		if c.SafeLimitA == 0 {
			c.SafeLimitA = c.MaxCurrentA
		}
		if c.MinCurrentA == 0 {
			c.MinCurrentA = DefaultMinCurrentA
		}
	}
}

// MaxStaleness is Safety.MaxStalenessMinutes as a duration.
func (s *Site) MaxStaleness() time.Duration {
	return time.Duration(s.Safety.MaxStalenessMinutes) * time.Minute
}

// ChargerNames are the unit's charging points as the engine names them: the group
// name, with "/k" (k = 1…count) when the group has several.
func (u *Unit) ChargerNames() []string {
	var out []string
	for _, c := range u.EV.Chargers {
		if c.Count <= 1 {
			out = append(out, c.Name)
			continue
		}
		for k := range c.Count {
			out = append(out, fmt.Sprintf("%s/%d", c.Name, k+1))
		}
	}
	return out
}

// isChargerName reports whether n is one of ChargerNames without listing them: the
// count is checked in the same pass, so it may still be absurd here.
func (u *Unit) isChargerName(n string) bool {
	for _, c := range u.EV.Chargers {
		if c.Count <= 1 {
			if n == c.Name {
				return true
			}
			continue
		}
		k, ok := strings.CutPrefix(n, c.Name+"/")
		if i, err := strconv.Atoi(k); ok && err == nil && i >= 1 && i <= c.Count && strconv.Itoa(i) == k {
			return true
		}
	}
	return false
}

func (c *check) site(u *Unit) {
	s := u.Site
	if s == nil {
		return
	}
	if _, err := hostPort(s.MQTT.Broker, "tcp", "mqtt"); err != nil {
		c.errf("site.mqtt.broker", "%v", err)
	}
	if len(s.Chargers) > 0 || s.OCPP.Listen != "" {
		if _, err := hostPort(s.OCPP.Listen, "ws"); err != nil {
			c.errf("site.ocpp.listen", "%v", err)
		}
	}
	sf := s.Safety
	if sf.MaxStalenessMinutes < 1 {
		c.errf("site.safety.max_staleness_minutes", "%d must be >= 1", sf.MaxStalenessMinutes)
	}
	if sf.CommandTimeoutS < 1 || sf.CommandTimeoutS > 300 {
		c.errf("site.safety.command_timeout_s", "%d must be in [1, 300]", sf.CommandTimeoutS)
	}
	if sf.MaxCommandsPerHour < 1 {
		c.errf("site.safety.max_commands_per_hour", "%d must be >= 1", sf.MaxCommandsPerHour)
	}
	c.nonNegative("site.safety.import_limit_kw", sf.ImportLimitKW)

	ids := map[string]string{} // device id → field that named it first
	device := func(field, id string) {
		if err := deviceID(id); err != nil {
			c.errf(field, "%v", err)
			return
		}
		if prev, dup := ids[id]; dup {
			c.errf(field, "%q is already used by %s (device ids must be unique)", id, prev)
			return
		}
		ids[id] = field
	}
	pv := map[string]bool{}
	for _, p := range u.PV {
		pv[p.Name] = true
	}
	grid := 0
	for i, m := range s.Meters {
		f := at("site.meters", i)
		device(f+".id", m.ID)
		if !c.oneOf(f+".role", m.Role, "grid", "load", "pv", "flex", "household") {
			continue
		}
		switch m.Role {
		case "grid":
			grid++
		case "load":
			if len(m.Buildings) == 0 {
				c.errf(f+".buildings", "required for a load meter: the buildings it measures")
			}
		case "pv":
			if len(m.PV) == 0 {
				c.errf(f+".pv", "required for a pv meter: the pv arrays it measures")
			}
		}
		for j, b := range m.Buildings {
			if b == "" {
				c.errf(at(f+".buildings", j), "empty building name")
			} else {
				c.building(at(f+".buildings", j), b)
			}
		}
		for j, p := range m.PV {
			if !pv[p] {
				c.errf(at(f+".pv", j), "%q is not a pv array of the unit", p)
			}
		}
		for _, pt := range []struct{ field, v string }{{"import", m.Import}, {"export", m.Export}} {
			if pt.v != "" && (strings.ContainsAny(pt.v, "\t\n=;") || len(pt.v) > 200 || !strings.Contains(pt.v, "/")) {
				c.errf(f+"."+pt.field, "%q: want a point name such as grid/elec/active_energy_%s (no tabs, '=' or ';')", pt.v, pt.field)
			}
		}
		if m.Role == "household" && !m.HouseholdLevel {
			c.errf(f+".household_level", "a household meter must say household_level: true (its data is personal)")
		}
	}
	if len(s.Meters) > 0 && grid != 1 {
		c.errf("site.meters", "%d grid meters: want exactly one (role: grid), whose registers are billed", grid)
	}
	bats := map[string]bool{}
	for _, b := range u.Batteries {
		bats[b.Name] = true
	}
	seen := map[string]string{}
	once := func(field, kind, name string) {
		if prev, dup := seen[kind+"\x00"+name]; dup {
			c.errf(field, "%s %q is already bound by %s", kind, name, prev)
		}
		seen[kind+"\x00"+name] = field
	}
	for i, b := range s.Batteries {
		f := at("site.batteries", i)
		if !bats[b.Battery] {
			c.errf(f+".battery", "%q is not a battery of the unit", b.Battery)
		}
		once(f+".battery", "battery", b.Battery)
		if _, err := hostPort(b.Modbus, ""); err != nil {
			c.errf(f+".modbus", "%v", err)
		}
		if b.UnitID < 1 || b.UnitID > 247 {
			c.errf(f+".unit_id", "%d must be in [1, 247]", b.UnitID)
		}
		c.oneOf(f+".register_map", b.RegisterMap, "lifang")
		if b.CommTimeoutS < 1 || b.CommTimeoutS > 65535 {
			c.errf(f+".comm_timeout_s", "%d must be in [1, 65535]", b.CommTimeoutS)
		}
	}
	for i, ch := range s.Chargers {
		f := at("site.chargers", i)
		if !u.isChargerName(ch.Charger) {
			c.errf(f+".charger", "%q is not a charging point of the unit (a group name, with /k when its count is above 1)", ch.Charger)
		}
		once(f+".charger", "charger", ch.Charger)
		if err := deviceID(ch.OCPPID); err != nil {
			c.errf(f+".ocpp_id", "%v", err)
		}
		once(f+".ocpp_id", "connector", fmt.Sprintf("%s#%d", ch.OCPPID, ch.Connector))
		if ch.Connector < 1 {
			c.errf(f+".connector", "%d must be >= 1", ch.Connector)
		}
		c.positive(f+".max_current_a", ch.MaxCurrentA)
		if ch.Phases != 1 && ch.Phases != 3 {
			c.errf(f+".phases", "%d must be 1 or 3", ch.Phases)
		}
		c.positive(f+".voltage_v", ch.VoltageV)
		c.oneOf(f+".limit_unit", ch.LimitUnit, "A", "W")
		if ch.SafeLimitA < 0 || ch.SafeLimitA > ch.MaxCurrentA {
			c.errf(f+".safe_limit_a", "%g must be in [0, max_current_a = %g]", ch.SafeLimitA, ch.MaxCurrentA)
		}
		if ch.MinCurrentA < 0 || ch.MinCurrentA > ch.MaxCurrentA {
			c.errf(f+".min_current_a", "%g must be in [0, max_current_a = %g]", ch.MinCurrentA, ch.MaxCurrentA)
		}
	}
	if len(s.Tanks) > 1 {
		c.errf("site.tanks", "%d tanks: the twin lumps the unit's tanks into one store, bind it once", len(s.Tanks))
	}
	for i, t := range s.Tanks {
		device(at("site.tanks", i)+".device", t.Device)
		if len(u.Water.Tanks) == 0 {
			c.errf(at("site.tanks", i), "the unit has no water.tanks")
		}
	}
	flex := map[string]bool{}
	for _, fl := range u.Flexible {
		flex[fl.Name] = true
	}
	for i, a := range s.Appliances {
		f := at("site.appliances", i)
		device(f+".device", a.Device)
		if !flex[a.Group] {
			c.errf(f+".group", "%q is not a flexible_loads group of the unit", a.Group)
		}
		once(f+".group", "group", a.Group)
	}
	lots := map[string]bool{}
	for _, l := range u.Parking.Lots {
		lots[l.Name] = true
	}
	for i, l := range s.Lots {
		f := at("site.lots", i)
		device(f+".device", l.Device)
		if !lots[l.Lot] {
			c.errf(f+".lot", "%q is not a parking lot of the unit", l.Lot)
		}
		once(f+".lot", "lot", l.Lot)
	}
}

// deviceID checks an id used as one MQTT topic level and a point-name prefix.
func deviceID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return fmt.Errorf("required: a device id")
	case strings.ContainsAny(id, "/+#=; \t\x00"):
		return fmt.Errorf("%q: a device id is one topic level: no '/', '+', '#', '=', ';' or spaces", id)
	case len(id) > 64:
		return fmt.Errorf("%q: %d bytes, want at most 64", id, len(id))
	}
	return nil
}

// hostPort checks an endpoint: scheme://host:port with one of schemes, or a bare
// host:port when schemes is [""]; it returns host:port.
func hostPort(s string, schemes ...string) (string, error) {
	hp := s
	if len(schemes) > 0 && schemes[0] != "" {
		u, err := url.Parse(s)
		if err != nil || !slices.Contains(schemes, u.Scheme) {
			want := make([]string, len(schemes))
			for i, sc := range schemes {
				want[i] = sc + "://host:port"
			}
			return "", fmt.Errorf("%q: want %s", s, strings.Join(want, " or "))
		}
		hp = u.Host
	}
	host, port, err := net.SplitHostPort(hp)
	if err != nil || host == "" || port == "" {
		return "", fmt.Errorf("%q: want host:port", s)
	}
	return hp, nil
}
