package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
)

// Page is one report: a title block, sections and a footer.
type Page struct {
	Title, Subtitle string
	Lang            string // "zh-CN" or "en"; default "en"
	Meta            []KV   // small key/value facts under the title (e.g. seed, hours, generated-by)
	Sections        []Section
	Footer          string
}

// KV is one key/value fact.
type KV struct{ Key, Value string }

// Section is a headed block of the page. Its parts render in the order
// paragraphs, cards, charts, tables: the summary first, the detail last.
type Section struct {
	Heading string
	Text    []string // paragraphs (plain text, escaped)
	Cards   []Card   // big-number tiles
	Tables  []Table
	Charts  []Chart
}

// Card is a big-number tile: a label, a value and an optional note below it.
type Card struct{ Label, Value, Note string }

// Table is a data table; the first cell of each row is its row header.
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
	// NumericCols marks columns to right-align.
	NumericCols []int
}

//go:embed page.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("page").Parse(pageTemplate))

// tocMinSections is the number of sections from which the page gets a
// table of contents.
const tocMinSections = 3

// Write renders p as one self-contained HTML document. It writes nothing if
// rendering fails, and the same Page always gives byte-identical output.
func Write(w io.Writer, p Page) error {
	v, err := newPageView(p)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}

// The view types are Page prepared for the template: ids assigned, numeric
// columns resolved per cell and charts rendered to trusted SVG.
type (
	pageView struct {
		Page
		TOC           bool
		ContentsLabel string
		Sections      []sectionView
	}
	sectionView struct {
		ID      string
		Heading string
		Text    []string
		Cards   []Card
		Charts  []chartView
		Tables  []tableView
	}
	chartView struct {
		Title string
		SVG   template.HTML
	}
	tableView struct {
		Caption string
		Header  []cellView
		Rows    [][]cellView
	}
	cellView struct {
		Text string
		Num  bool
	}
)

func newPageView(p Page) (pageView, error) {
	if p.Lang == "" {
		p.Lang = "en"
	}
	v := pageView{Page: p, TOC: len(p.Sections) >= tocMinSections, ContentsLabel: "Contents"}
	if strings.HasPrefix(p.Lang, "zh") {
		v.ContentsLabel = "目录"
	}
	for si, s := range p.Sections {
		sv := sectionView{ID: "s" + strconv.Itoa(si+1), Heading: s.Heading, Text: s.Text, Cards: s.Cards}
		for ci, c := range s.Charts {
			svg, err := renderChart(c, sv.ID+"-c"+strconv.Itoa(ci+1))
			if err != nil {
				return pageView{}, fmt.Errorf("section %d (%q) chart %d (%q): %w", si+1, s.Heading, ci+1, c.Title, err)
			}
			// renderChart escapes every piece of text it places in the SVG.
			sv.Charts = append(sv.Charts, chartView{Title: c.Title, SVG: template.HTML(svg)})
		}
		for _, t := range s.Tables {
			sv.Tables = append(sv.Tables, newTableView(t))
		}
		v.Sections = append(v.Sections, sv)
	}
	return v, nil
}

func newTableView(t Table) tableView {
	num := func(col int) bool {
		for _, c := range t.NumericCols {
			if c == col {
				return true
			}
		}
		return false
	}
	tv := tableView{Caption: t.Caption}
	for i, h := range t.Header {
		tv.Header = append(tv.Header, cellView{Text: h, Num: num(i)})
	}
	for _, r := range t.Rows {
		row := make([]cellView, len(r))
		for i, c := range r {
			row[i] = cellView{Text: c, Num: num(i)}
		}
		tv.Rows = append(tv.Rows, row)
	}
	return tv
}
