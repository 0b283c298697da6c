package ocpp

import (
	"strconv"
	"time"

	"github.com/lifang-community/lifang/reading"
)

// EventSessionIntent is the ledgered form of a driver's SessionIntent: attrs connector,
// transaction_id, departure (RFC 3339), energy_kwh, max_power_kw.
const EventSessionIntent reading.EventKind = "ev_session_intent"

// EventSessionLost records a transaction closed because its charger reported the
// connector Available while the central system held it open (its StopTransaction never
// arrived): attrs transaction_id, reason.
const EventSessionLost reading.EventKind = "ev_session_lost"

// intentTime is when an intent is ledgered: the charger's time of the connector's last
// message (a DataTransfer carries no timestamp of its own).
func (c *CentralSystem) intentTime(cp string, connector int) time.Time {
	c.smu.Lock()
	defer c.smu.Unlock()
	if s := c.conns[connKey{cp, connector}]; s != nil && !s.MeterTime.IsZero() {
		return s.MeterTime
	}
	return c.now()
}

// Restore brings a restarted central system back to what its ledger says: transactions
// still open (their ids, connectors and meterStart), the session intents declared for
// them, and the next transaction id, so that no id is given twice. Pass every
// ev_session_start, ev_session_stop, ev_session_lost and ev_session_intent event. Call
// it before Start.
func (c *CentralSystem) Restore(events []reading.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.smu.Lock()
	defer c.smu.Unlock()
	type open struct {
		cp        string
		connector int
		start     int
		at        time.Time
	}
	live := map[int]open{}
	for _, e := range events {
		cp, connector := splitSource(e.Source)
		switch e.Kind {
		case reading.EVSessionStart:
			tx, err1 := strconv.Atoi(e.Attrs["transaction_id"])
			ms, err2 := strconv.Atoi(e.Attrs["meter_start_wh"])
			if err1 != nil || err2 != nil || cp == "" {
				continue
			}
			c.nextTx = max(c.nextTx, tx+1)
			if e.Attrs["id_tag_status"] == "" || e.Attrs["id_tag_status"] == "Accepted" {
				live[tx] = open{cp, connector, ms, e.Time}
			}
		case reading.EVSessionStop, EventSessionLost:
			if tx, err := strconv.Atoi(e.Attrs["transaction_id"]); err == nil {
				c.nextTx = max(c.nextTx, tx+1)
				delete(live, tx)
			}
		}
	}
	for tx, o := range live {
		c.open[txKey{o.cp, tx}] = transaction{connector: o.connector, meterStart: o.start}
		s := c.connLocked(o.cp, o.connector)
		if s == nil {
			continue
		}
		s.Transaction, s.MeterStartWh = tx, float64(o.start)
		if s.MeterTime.Before(o.at) {
			s.MeterWh, s.MeterTime = float64(o.start), o.at
		}
	}
	for _, e := range events {
		if e.Kind != EventSessionIntent {
			continue
		}
		cp, connector := splitSource(e.Source)
		s := c.conns[connKey{cp, connector}]
		tx, _ := strconv.Atoi(e.Attrs["transaction_id"])
		if s == nil || s.Transaction == 0 || (tx != 0 && tx != s.Transaction) {
			continue
		}
		if t, err := time.Parse(time.RFC3339, e.Attrs["departure"]); err == nil {
			s.DepartureTime = t
		}
		s.EnergyNeedKWh, _ = strconv.ParseFloat(e.Attrs["energy_kwh"], 64)
		s.MaxPowerKW, _ = strconv.ParseFloat(e.Attrs["max_power_kw"], 64)
	}
}

// splitSource splits an event source "<cp>/<connector>".
func splitSource(src string) (string, int) {
	for i := len(src) - 1; i >= 0; i-- {
		if src[i] == '/' {
			n, err := strconv.Atoi(src[i+1:])
			if err != nil {
				return "", 0
			}
			return src[:i], n
		}
	}
	return "", 0
}
