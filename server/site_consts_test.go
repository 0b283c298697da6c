package server

import (
	"testing"

	"github.com/lifang-community/lifang/site"
)

// The server reads the live loop's evidence without importing package site (its
// adapters have no place in the API process); this pins the copied names to site's.
func TestSiteNamesMatchPackageSite(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{string(kindDecision), site.EventDecision}, {string(kindCommand), site.EventCommand}, {string(kindAnswer), site.EventAnswer},
		{string(kindAlarm), site.EventAlarm}, {string(kindOverride), site.EventOverride}, {string(kindFlexRequest), site.EventFlexRequest},
		{answerAcked, site.Acked}, {answerRejected, site.Rejected}, {answerTimedOut, site.TimedOut},
		{pointPower("m"), site.PointPower("m")}, {pointImport("m"), site.PointImport("m")}, {pointExport("m"), site.PointExport("m")},
		{pointSoC("b"), site.PointSoC("b")}, {pointStored("b"), site.PointStored("b")},
		{pointTankLevel("t"), site.PointTankLevel("t")}, {pointOccupancy("g"), site.PointLotOccupancy("g")},
	} {
		if c.got != c.want {
			t.Errorf("server uses %q where package site writes %q", c.got, c.want)
		}
	}
}
