// Package ingest turns what devices send into validated readings: adapters parse their
// protocol (CSV files, HTTP JSON batches here; MQTT, OCPP and Modbus in the
// sub-packages) into an Input, and a Sink — the Pipeline — validates it, quarantines
// what is bad with its reason, stores what is good and commits it to the ledger.
package ingest

import (
	"context"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// MaxBatch is the most readings one Input may carry; larger inputs are rejected whole
// (adapters split their own streams into batches of at most this many).
const MaxBatch = 50000

// Input is what an adapter parsed from one unit of transport (a file chunk, an HTTP
// request, a group of MQTT messages, an OCPP call).
type Input struct {
	// Source names the adapter and origin, e.g. "csv:meters.csv", "mqtt:lifang/u1/readings".
	Source   string
	Readings []reading.Reading
	Events   []reading.Event
	// Raw[i] is the input Readings[i] came from (a CSV line, a JSON object), kept if
	// the reading is quarantined; it may be nil, and the reading is then described.
	Raw []string
	// Rejected is input the adapter could not parse at all, with its reason.
	Rejected []store.Rejected
}

// Result says what became of an Input. Every reading is exactly one of accepted,
// quarantined or duplicate.
type Result struct {
	Accepted    int   `json:"accepted"`
	Quarantined int   `json:"quarantined"`
	Duplicates  int   `json:"duplicates"`
	Events      int   `json:"events"`
	LeafIndex   int64 `json:"leaf_index"` // -1 when nothing was committed
	TreeSize    int64 `json:"tree_size"`
	// Checkpoint is the signed checkpoint covering the batch (C2SP text), when signed.
	Checkpoint string `json:"checkpoint,omitempty"`
	// Reasons counts quarantine reasons.
	Reasons map[string]int `json:"reasons,omitempty"`
}

// Add accumulates another result (for inputs split into several batches).
func (r *Result) Add(o Result) {
	r.Accepted += o.Accepted
	r.Quarantined += o.Quarantined
	r.Duplicates += o.Duplicates
	r.Events += o.Events
	if o.LeafIndex >= 0 {
		r.LeafIndex = o.LeafIndex
	}
	if o.TreeSize > r.TreeSize {
		r.TreeSize = o.TreeSize
	}
	if o.Checkpoint != "" {
		r.Checkpoint = o.Checkpoint
	}
	for k, v := range o.Reasons {
		if r.Reasons == nil {
			r.Reasons = map[string]int{}
		}
		r.Reasons[k] += v
	}
}

// Sink accepts parsed input. It returns only when everything it reports accepted is
// durable and committed to the ledger; an error means nothing of the input was
// acknowledged (it may be retried: duplicates are idempotent).
type Sink interface {
	Ingest(ctx context.Context, in Input) (Result, error)
}
