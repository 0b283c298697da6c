package ocpp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
)

// Session intents: what an EV driver declared for a charging session, sent by the
// charge point in a DataTransfer. It stands in for what ISO 15118 (departure time and
// energy request from the EV) or a booking app would give.
const (
	// VendorID is lifang's DataTransfer vendorId.
	VendorID = "cn.lifang"
	// MessageSessionIntent is the DataTransfer messageId of a session intent.
	MessageSessionIntent = "SessionIntent"
)

// MaxEnergyNeedKWh and MaxDeclaredPowerKW bound what a driver may declare: anything
// above is not an EV but a typo or garbage.
const (
	MaxEnergyNeedKWh   = 1000
	MaxDeclaredPowerKW = 1000
)

// maxIntentBytes bounds the data of a session intent.
const maxIntentBytes = 4096

// SessionIntent is what the driver declared for the session on one connector. The
// data of the DataTransfer is a JSON string such as
//
//	{"connector":1,"transaction_id":12,"departure":"2025-03-01T17:30:00+08:00","energy_kwh":23.5}
//
// connector (≥ 1) is required; transaction_id (0 or absent: none yet) ties the intent to
// a transaction; departure (RFC 3339), energy_kwh (0–MaxEnergyNeedKWh) and
// max_power_kw (the most the EV takes, ISO 15118's EVMaximumPowerLimit;
// 0–MaxDeclaredPowerKW) are each optional but one of them must be there. Unknown or
// repeated fields are an error.
type SessionIntent struct {
	Connector     int
	TransactionID int       // 0 when the intent came before the transaction started
	Departure     time.Time // zero when not declared
	EnergyNeedKWh float64   // 0 when not declared
	MaxPowerKW    float64   // 0 when not declared
}

// intentJSON is the wire form of a SessionIntent.
type intentJSON struct {
	Connector     *int     `json:"connector"`
	TransactionID int      `json:"transaction_id,omitempty"`
	Departure     string   `json:"departure,omitempty"`
	EnergyKWh     *float64 `json:"energy_kwh,omitempty"`
	MaxPowerKW    *float64 `json:"max_power_kw,omitempty"`
}

// intentFields are the keys of a session intent; encoding/json alone would also take
// "Connector" or "CONNECTOR", and the last of duplicate keys.
var intentFields = []string{"connector", "transaction_id", "departure", "energy_kwh", "max_power_kw"}

// ParseSessionIntent decodes and checks the data of a SessionIntent DataTransfer.
func ParseSessionIntent(data []byte) (SessionIntent, error) {
	var in SessionIntent
	if len(data) > maxIntentBytes {
		return in, fmt.Errorf("session intent: %d bytes, more than %d", len(data), maxIntentBytes)
	}
	fields, err := objectFields(data)
	if err != nil {
		return in, fmt.Errorf("session intent: %w", err)
	}
	var w intentJSON
	for _, f := range []struct {
		key string
		dst any
	}{{"connector", &w.Connector}, {"transaction_id", &w.TransactionID}, {"departure", &w.Departure}, {"energy_kwh", &w.EnergyKWh}, {"max_power_kw", &w.MaxPowerKW}} {
		if raw, ok := fields[f.key]; ok {
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return in, fmt.Errorf("session intent: %s: %w", f.key, err)
			}
		}
	}
	if w.Connector == nil {
		return in, errors.New("session intent: connector: missing (want an integer ≥ 1)")
	}
	if *w.Connector < 1 {
		return in, fmt.Errorf("session intent: connector: %d, want ≥ 1", *w.Connector)
	}
	in.Connector = *w.Connector
	if w.TransactionID < 0 {
		return in, fmt.Errorf("session intent: transaction_id: %d, want ≥ 0", w.TransactionID)
	}
	in.TransactionID = w.TransactionID
	if w.Departure == "" && w.EnergyKWh == nil && w.MaxPowerKW == nil {
		return in, errors.New("session intent: none of departure, energy_kwh, max_power_kw given")
	}
	if w.Departure != "" {
		t, err := time.Parse(time.RFC3339Nano, w.Departure)
		if err != nil {
			return in, fmt.Errorf("session intent: departure: %q is not RFC 3339", truncate(w.Departure, 40))
		}
		in.Departure = t.UTC()
	}
	if w.EnergyKWh != nil {
		e := *w.EnergyKWh
		if math.IsNaN(e) || e < 0 || e > MaxEnergyNeedKWh {
			return in, fmt.Errorf("session intent: energy_kwh: %v, want 0–%d", e, MaxEnergyNeedKWh)
		}
		in.EnergyNeedKWh = e
	}
	if w.MaxPowerKW != nil {
		p := *w.MaxPowerKW
		if math.IsNaN(p) || p < 0 || p > MaxDeclaredPowerKW {
			return in, fmt.Errorf("session intent: max_power_kw: %v, want 0–%d", p, MaxDeclaredPowerKW)
		}
		in.MaxPowerKW = p
	}
	return in, nil
}

// objectFields splits a JSON object into its values by key, refusing anything else, a
// key that is not exactly one of intentFields, a key given twice and trailing data.
func objectFields(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want a JSON object, not %v", tok)
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if !slices.Contains(intentFields, key) {
			return nil, fmt.Errorf("unknown field %q (valid: %s)", truncate(key, 40), strings.Join(intentFields, ", "))
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("field %q given twice", key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	return fields, nil
}

// MarshalJSON gives the wire form ParseSessionIntent reads.
func (in SessionIntent) MarshalJSON() ([]byte, error) {
	conn := in.Connector
	w := intentJSON{Connector: &conn, TransactionID: in.TransactionID}
	if !in.Departure.IsZero() {
		w.Departure = in.Departure.UTC().Format(time.RFC3339Nano)
	}
	if in.MaxPowerKW != 0 {
		p := in.MaxPowerKW
		w.MaxPowerKW = &p
	}
	if in.EnergyNeedKWh != 0 || (in.Departure.IsZero() && in.MaxPowerKW == 0) {
		e := in.EnergyNeedKWh
		w.EnergyKWh = &e
	}
	return json.Marshal(w)
}

// intentData is the data of a DataTransfer as bytes: OCPP 1.6 makes it a string, but a
// charger sending a JSON object instead is understood too.
func intentData(data any) ([]byte, error) {
	switch d := data.(type) {
	case nil:
		return nil, errors.New("session intent: no data")
	case string:
		return []byte(d), nil
	case map[string]any:
		return json.Marshal(d)
	default:
		return nil, fmt.Errorf("session intent: data is a %T, want a JSON string", data)
	}
}

// dataTransfer answers a DataTransfer from a charge point: lifang's session intents
// are recorded on the connector; nothing goes to the sink.
func (c *CentralSystem) dataTransfer(cp string, req *core.DataTransferRequest) *core.DataTransferConfirmation {
	if req.VendorId != VendorID {
		c.log.Info("data transfer refused", "charge_point", cp, "vendor", req.VendorId)
		return core.NewDataTransferConfirmation(core.DataTransferStatusUnknownVendorId)
	}
	if req.MessageId != MessageSessionIntent {
		c.log.Info("data transfer refused", "charge_point", cp, "vendor", req.VendorId, "message", req.MessageId)
		return core.NewDataTransferConfirmation(core.DataTransferStatusUnknownMessageId)
	}
	reject := func(err error) *core.DataTransferConfirmation {
		c.log.Warn("session intent rejected", "charge_point", cp, "err", err)
		conf := core.NewDataTransferConfirmation(core.DataTransferStatusRejected)
		conf.Data = err.Error()
		return conf
	}
	data, err := intentData(req.Data)
	if err != nil {
		return reject(err)
	}
	in, err := ParseSessionIntent(data)
	if err != nil {
		return reject(err)
	}
	// An intent for a transaction other than the one open on the connector is stale;
	// when the connector has none we know of (or the intent names none) it is kept.
	if open := c.openTransaction(cp, in.Connector); in.TransactionID != 0 && open != 0 && open != in.TransactionID {
		return reject(fmt.Errorf("session intent: transaction_id %d, but transaction %d is open on connector %d",
			in.TransactionID, open, in.Connector))
	}
	// Ledgered, so that a restarted central system still knows what the driver asked for.
	attrs := map[string]string{"connector": strconv.Itoa(in.Connector), "transaction_id": strconv.Itoa(in.TransactionID)}
	if !in.Departure.IsZero() {
		attrs["departure"] = in.Departure.UTC().Format(time.RFC3339)
	}
	if in.EnergyNeedKWh > 0 {
		attrs["energy_kwh"] = strconv.FormatFloat(in.EnergyNeedKWh, 'g', -1, 64)
	}
	if in.MaxPowerKW > 0 {
		attrs["max_power_kw"] = strconv.FormatFloat(in.MaxPowerKW, 'g', -1, 64)
	}
	ev := reading.Event{Kind: EventSessionIntent, Source: cp + "/" + strconv.Itoa(in.Connector), Time: c.intentTime(cp, in.Connector), Attrs: attrs}
	if err := c.ingest(cp, "DataTransfer", ingest.Input{Source: "ocpp:" + cp, Events: []reading.Event{ev}}); err != nil {
		conf := core.NewDataTransferConfirmation(core.DataTransferStatusRejected)
		conf.Data = "not stored; send again"
		return conf
	}
	c.trackIntent(cp, in)
	c.log.Info("session intent", "charge_point", cp, "connector", in.Connector, "transaction_id", in.TransactionID,
		"departure", in.Departure, "energy_need_kwh", in.EnergyNeedKWh, "max_power_kw", in.MaxPowerKW)
	return core.NewDataTransferConfirmation(core.DataTransferStatusAccepted)
}
