package citylearn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// schema is the part of CityLearn's schema.json the importer uses. Other keys
// (observations, actions, agent, reward) describe a CityLearn environment, not the
// community, and are ignored.
type schema struct {
	StartStep      int                `json:"simulation_start_time_step"`
	EndStep        *int               `json:"simulation_end_time_step"`
	SecondsPerStep float64            `json:"seconds_per_time_step"`
	StartDate      string             `json:"start_date"`
	Vehicles       map[string]vehicle `json:"electric_vehicles_def"`
	// Buildings keep the file's order: it fixes building, charger and appliance indices.
	Buildings ordered[building] `json:"buildings"`
}

type building struct {
	Include          *bool                   `json:"include"`
	EnergySimulation string                  `json:"energy_simulation"`
	Weather          string                  `json:"weather"`
	CarbonIntensity  string                  `json:"carbon_intensity"`
	Pricing          string                  `json:"pricing"`
	Storage          *device                 `json:"electrical_storage"`
	PV               *device                 `json:"pv"`
	Chargers         ordered[charger]        `json:"chargers"`
	WashingMachines  ordered[washingMachine] `json:"washing_machines"`
}

func (b *building) included() bool { return b.Include == nil || *b.Include }

// device is a CityLearn energy model (battery, PV) with the attributes lifang maps.
type device struct {
	Autosize   bool  `json:"autosize"`
	Attributes attrs `json:"attributes"`
}

// attrs are the numeric attributes the importer reads; nil means absent.
type attrs struct {
	Capacity         *float64 `json:"capacity"`
	NominalPower     *float64 `json:"nominal_power"`
	Efficiency       *float64 `json:"efficiency"`
	DepthOfDischarge *float64 `json:"depth_of_discharge"`
	InitialSoC       *float64 `json:"initial_soc"`
	LossCoefficient  *float64 `json:"loss_coefficient"`
	MaxChargingPower *float64 `json:"max_charging_power"`
}

type charger struct {
	File       string `json:"charger_simulation"`
	Attributes attrs  `json:"attributes"`
}

type washingMachine struct {
	File string `json:"washing_machine_energy_simulation"`
}

type vehicle struct {
	Battery device `json:"battery"`
}

// val is *p, or 0 when absent.
func val(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// ordered is a JSON object decoded into its entries in file order.
type ordered[T any] []entry[T]

type entry[T any] struct {
	Name  string
	Value T
}

func (o *ordered[T]) UnmarshalJSON(b []byte) error {
	*o = nil
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("want an object")
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		var e entry[T]
		e.Name = tok.(string) // object keys are always strings
		if err := d.Decode(&e.Value); err != nil {
			return fmt.Errorf("%q: %w", e.Name, err)
		}
		*o = append(*o, e)
	}
	_, err := d.Token()
	return err
}

func readSchema(dir string) (*schema, error) {
	b, err := os.ReadFile(filepath.Join(dir, "schema.json"))
	if err != nil {
		return nil, openError(err)
	}
	s := &schema{SecondsPerStep: 3600}
	if err := json.Unmarshal(b, s); err != nil {
		var off int64 = -1
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &se) {
			off = se.Offset
		} else if errors.As(err, &te) {
			off = te.Offset
		}
		if off >= 0 && off <= int64(len(b)) {
			return nil, fmt.Errorf("citylearn: schema.json:%d: %w", 1+bytes.Count(b[:off], []byte("\n")), err)
		}
		return nil, fmt.Errorf("citylearn: schema.json: %w", err)
	}
	return s, nil
}
