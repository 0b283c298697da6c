package reading

import (
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Point is a measured quantity of an asset: its name (e.g. "bldg1/elec/active_energy"),
// Brick class, canonical unit and the asset it belongs to (the name's first segment
// unless given).
type Point struct {
	Name  string
	Class string
	Unit  string
	Asset string
}

// NewPoint describes a point from its name and unit: the Brick class comes from the
// unit, refined by the name (PV generation), and the asset is the name's first segment.
func NewPoint(name, unit string) Point {
	p := Point{Name: name, Unit: unit, Class: "Sensor"}
	if u, ok := LookupUnit(unit); ok {
		p.Unit, p.Class = u.Symbol, u.BrickClass
		lower := strings.ToLower(name)
		if (u.Quantity == "energy" || u.Quantity == "power") && (strings.Contains(lower, "pv") || strings.Contains(lower, "solar")) {
			p.Class = "PV_Generation_Sensor"
		}
	}
	p.Asset, _, _ = strings.Cut(name, "/")
	return p
}

// qudt maps lifang's units to QUDT unit names (http://qudt.org/vocab/unit/).
var qudt = map[string]string{
	"kWh": "KiloW-HR", "Wh": "W-HR", "MWh": "MegaW-HR", "kWh/interval": "KiloW-HR", "kW": "KiloW", "W": "W", "kvar": "KiloV-A_Reactive",
	"V": "V", "A": "A", "Hz": "HZ", "%": "PERCENT", "m3": "M3", "m3/h": "M3-PER-HR", "L": "L", "mm": "MilliM",
	"degC": "DEG_C", "W/m2": "W-PER-M2", "count": "NUM", "CNY": "CCY_CNY",
}

// iri makes a local name safe for a prefixed name in Turtle.
func iri(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteString(fmt.Sprintf("_%X_", r))
		}
	}
	return b.String()
}

// WriteBrickTurtle writes the point catalogue as a Brick model in Turtle: each point is
// an instance of its Brick class with its QUDT unit and label, and isPointOf its asset.
// base names the site (e.g. the ledger origin) and becomes the namespace urn:lifang:<base>/.
func WriteBrickTurtle(w io.Writer, base string, points []Point) error {
	ns := "urn:lifang:" + url.PathEscape(base) + "/"
	var b strings.Builder
	b.WriteString("@prefix brick: <https://brickschema.org/schema/Brick#> .\n")
	b.WriteString("@prefix unit: <http://qudt.org/vocab/unit/> .\n")
	b.WriteString("@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n")
	b.WriteString("@prefix site: <" + ns + "> .\n\n")
	assets := map[string]bool{}
	for _, p := range points {
		if p.Asset != "" && !assets[p.Asset] {
			assets[p.Asset] = true
			fmt.Fprintf(&b, "site:asset_%s a brick:Equipment ;\n    rdfs:label %q .\n\n", iri(p.Asset), p.Asset)
		}
		fmt.Fprintf(&b, "site:point_%s a brick:%s ;\n    rdfs:label %q", iri(p.Name), p.Class, p.Name)
		if u, ok := qudt[p.Unit]; ok {
			fmt.Fprintf(&b, " ;\n    brick:hasUnit unit:%s", u)
		}
		if p.Asset != "" {
			fmt.Fprintf(&b, " ;\n    brick:isPointOf site:asset_%s", iri(p.Asset))
		}
		b.WriteString(" .\n\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
