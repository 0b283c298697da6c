package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Topics of the live loop's own MQTT traffic (readings and events use ingest/mqtt's).
func TopicClock(unit string) string           { return "lifang/" + unit + "/clock" }
func TopicClockAck(unit string) string        { return "lifang/" + unit + "/clock/ack" }
func TopicController(unit string) string      { return "lifang/" + unit + "/controller" }
func TopicCommand(unit, device string) string { return "lifang/" + unit + "/commands/" + device }
func TopicAck(unit, device string) string     { return "lifang/" + unit + "/acks/" + device }
func TopicReadings(unit string) string        { return "lifang/" + unit + "/readings" }
func TopicEvents(unit string) string          { return "lifang/" + unit + "/events" }

// Point names the site's meters and devices publish (units in the names' comments).
func PointPower(meter string) string         { return meter + "/elec/active_power" }         // kW, + import/consumption
func PointImport(meter string) string        { return meter + "/elec/active_energy_import" } // kWh register
func PointExport(meter string) string        { return meter + "/elec/active_energy_export" } // kWh register
func PointTankLevel(device string) string    { return device + "/water/level" }              // % of capacity
func PointLotOccupancy(device string) string { return device + "/parking/occupancy" }        // % of the spaces offered
// PointRainForecast is the weather service's rain forecast for the next 24 h (mm).
const PointRainForecast = "weather/rain_forecast_24h"

// Battery points the controller ledgers from its Modbus reads.
func PointSoC(battery string) string    { return battery + "/battery/soc" }           // %
func PointStored(battery string) string { return battery + "/battery/energy_stored" } // kWh (not a register: it goes down)

// EventFlexRequest is an appliance group announcing a run that waits for permission:
// attrs job (id), latest_start (RFC 3339: the last start that still ends in its window),
// steps, energy_kwh and profile_kw (comma-separated kW per step).
const EventFlexRequest = "flex_request"

// Evidence event kinds: what the controller decided, sent and heard, in the ledger.
const (
	EventDecision = "control_decision"
	EventCommand  = "control_command"
	EventAnswer   = "control_answer"
	EventAlarm    = "control_alarm"
	EventOverride = "control_override"
)

// Tick is the emulator's simulated clock: step Step starts at Time; the emulator waits
// for the controller's TickAck before it runs the step. Final marks the end of the period
// (no step runs; its readings close the registers).
type Tick struct {
	Step  int       `json:"step"`
	Time  time.Time `json:"time"`
	Final bool      `json:"final,omitempty"`
}

// TickAck says the controller has decided step Step and sent its commands.
type TickAck struct {
	Step int       `json:"step"`
	Time time.Time `json:"time"`
}

// Presence is the controller's presence, published retained.
type Presence struct {
	Status string    `json:"status"` // online | offline
	Since  time.Time `json:"since"`
}

// Command is an MQTT command to a device. ID is unique for the site for ever (the
// controller derives it from the step and device, so a restart never reuses one for a
// different command).
type Command struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Action string    `json:"action"` // start | release | set_price
	// Jobs to start (action start).
	Jobs []int `json:"jobs,omitempty"`
	// ReleaseM3 to let out before the step (action release).
	ReleaseM3 float64 `json:"release_m3,omitempty"`
	// Parking (action set_price): visitor price and allocation rule.
	PriceCNYPerH float64 `json:"price_cny_per_h,omitempty"`
	BestFit      bool    `json:"best_fit,omitempty"`
	BufferSteps  int     `json:"buffer_steps,omitempty"`
}

// Ack is a device's answer to a Command.
type Ack struct {
	ID     string `json:"id"`
	Status string `json:"status"` // accepted | rejected
	Detail string `json:"detail,omitempty"`
}

// DecodeStrict decodes one JSON object into v, rejecting unknown fields and trailing data.
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}
