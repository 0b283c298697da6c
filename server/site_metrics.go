package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// writeSiteMetrics renders the site's series for /metrics. They are computed from the
// store when /metrics is scraped (the same snapshot GET /api/v1/site serves, re-read
// only when the ledger has grown), so a scrape sees what the controller has ledgered:
//
//	lifang_site_commands_total{device,protocol,status}  commands by the status of their answer
//	lifang_site_data_staleness_seconds{device}          latest step − last heard (+Inf: never)
//	lifang_site_alarms_open                             alarms raised and not cleared
//	lifang_site_fallbacks_total                         observation fallbacks over all decisions
//
// A unit without a site: section has none of them.
func (s *Server) writeSiteMetrics(ctx context.Context, w io.Writer) {
	d, err := s.siteData(ctx)
	if err != nil {
		if !errors.Is(err, errNoSite) {
			s.log.WarnContext(ctx, "site metrics", "err", err)
		}
		return
	}
	v := d.view
	fmt.Fprintln(w, "# HELP lifang_site_commands_total Site commands by device, protocol and the status of their answer (unanswered: the step was interrupted).")
	fmt.Fprintln(w, "# TYPE lifang_site_commands_total counter")
	for _, c := range v.Commands {
		fmt.Fprintf(w, "lifang_site_commands_total{device=\"%s\",protocol=\"%s\",status=\"%s\"} %d\n", esc(c.Device), esc(c.Protocol), esc(c.Status), c.Count)
	}
	fmt.Fprintln(w, "# HELP lifang_site_data_staleness_seconds Time from a device's last reading or answer to the latest step (+Inf: never heard).")
	fmt.Fprintln(w, "# TYPE lifang_site_data_staleness_seconds gauge")
	for _, dev := range v.Devices {
		age := math.Inf(1)
		if dev.AgeSeconds != nil {
			age = *dev.AgeSeconds
		}
		fmt.Fprintf(w, "lifang_site_data_staleness_seconds{device=\"%s\"} %s\n", esc(dev.ID), promFloat(age))
	}
	fmt.Fprintf(w, "# HELP lifang_site_alarms_open Site alarms raised and not cleared.\n# TYPE lifang_site_alarms_open gauge\nlifang_site_alarms_open %d\n", len(v.Alarms.Open))
	fmt.Fprintf(w, "# HELP lifang_site_fallbacks_total Observation fallbacks (stale meters, batteries in standby, …) over all ledgered decisions.\n# TYPE lifang_site_fallbacks_total counter\nlifang_site_fallbacks_total %d\n", d.fallbacks)
}

// promFloat formats a sample value as the exposition format spells it.
func promFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
