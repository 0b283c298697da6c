package twin

import "sort"

// lot simulates one car park: public spaces for anyone and resident-owned spaces
// offered to visitors inside the owners' declared free windows (REFERENCES: shared
// parking). A visitor is matched to a shared space only if the whole stay plus the
// buffer fits inside the space's current window (interval scheduling); visitors who
// overstay past the owner's return cause a conflict.
type lot struct {
	spec          LotSpec
	windows       [][]ResidentWindow // per shared space, sorted by From
	next          []int              // per shared space: first window not yet ended
	busyUntil     []int              // per shared space: step the visitor leaves
	publicBusy    int
	sharedBusy    int
	openShared    []int32           // per step: shared spaces in a window
	releases      map[int][]release // step → stays ending
	returns       []int             // per step: owners returning (window ends)
	residentShare float64           // share of a shared space's revenue paid to its owner

	tot      LotTotals
	occSum   float64
	priceSum float64
	lastOcc  float64
}

type release struct {
	shared bool
	space  int
}

func newLot(spec LotSpec, residentShare float64, steps, months int, ws []ResidentWindow) *lot {
	l := &lot{spec: spec, windows: make([][]ResidentWindow, spec.ShareableSpaces),
		next: make([]int, spec.ShareableSpaces), busyUntil: make([]int, spec.ShareableSpaces),
		openShared: make([]int32, steps+1), releases: map[int][]release{}, returns: make([]int, steps+1),
		residentShare: residentShare}
	l.tot.Name = spec.Name
	l.tot.MonthlyRevenueCNY = make([]float64, months)
	l.tot.MonthlyResidentCNY = make([]float64, months)
	for _, w := range ws {
		l.windows[w.Space] = append(l.windows[w.Space], w)
		from, to := max(w.From, 0), min(w.To, steps)
		if from < to {
			l.openShared[from]++
			l.openShared[to]--
			l.returns[to]++
		}
	}
	for s := range l.windows {
		sort.Slice(l.windows[s], func(i, j int) bool { return l.windows[s][i].From < l.windows[s][j].From })
	}
	for t := 1; t <= steps; t++ {
		l.openShared[t] += l.openShared[t-1]
	}
	return l
}

// free releases the stays that end at step t and counts owners who find their space taken.
func (l *lot) free(t int) {
	for _, r := range l.releases[t] {
		if r.shared {
			l.sharedBusy--
		} else {
			l.publicBusy--
		}
	}
	delete(l.releases, t)
	if t < len(l.returns) {
		l.tot.ResidentReturns += l.returns[t]
	}
}

// window returns the window of shared space s that contains step t, if any.
func (l *lot) window(s, t int) (ResidentWindow, bool) {
	ws := l.windows[s]
	for l.next[s] < len(ws) && ws[l.next[s]].To <= t {
		l.next[s]++
	}
	if l.next[s] < len(ws) && ws[l.next[s]].From <= t {
		return ws[l.next[s]], true
	}
	return ResidentWindow{}, false
}

// arrive handles one visitor request at step t under price p (CNY/h).
func (l *lot) arrive(r ParkingRequest, t, month int, p, dtH float64, bestFit bool, buffer, steps int) {
	l.tot.Requests++
	if r.WTPCNYPerHour < p {
		l.tot.PricedOut++
		return
	}
	leave := min(r.Depart+r.OverstaySteps, steps)
	shared, space := false, -1
	if l.publicBusy < l.spec.PublicSpaces() {
		l.publicBusy++
	} else {
		best, bestSlack := -1, 0
		var bestWin ResidentWindow
		for s := range l.windows {
			if l.busyUntil[s] > t {
				continue
			}
			w, ok := l.window(s, t)
			if !ok || r.Depart+buffer > w.To {
				continue
			}
			slack := w.To - r.Depart
			if best < 0 || (bestFit && slack < bestSlack) {
				best, bestSlack, bestWin = s, slack, w
				if !bestFit {
					break
				}
			}
		}
		if best < 0 {
			l.tot.TurnedAway++
			return
		}
		shared, space = true, best
		l.busyUntil[best] = leave
		l.sharedBusy++
		l.tot.OnSharedSpaces++
		if leave > bestWin.To {
			l.tot.ResidentConflicts++
		}
	}
	l.releases[leave] = append(l.releases[leave], release{shared: shared, space: space})
	hours := float64(leave-r.Arrive) * dtH
	rev := p * hours
	l.tot.Accepted++
	l.tot.VisitorHours += hours
	l.tot.RevenueCNY += rev
	l.tot.MonthlyRevenueCNY[month] += rev
	if shared {
		res := rev * l.residentShare
		l.tot.ResidentShareCNY += res
		l.tot.MonthlyResidentCNY[month] += res
	}
}

// occupancy is the share of visitor-offered spaces occupied during step t.
func (l *lot) occupancy(t int) float64 {
	offered := l.spec.PublicSpaces() + int(l.openShared[t])
	if offered <= 0 {
		return 0
	}
	return float64(l.publicBusy+l.sharedBusy) / float64(offered)
}
