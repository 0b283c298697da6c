// Package mqtt is lifang's MQTT ingest adapter: it subscribes to a broker (MQTT 5, via
// github.com/eclipse/paho.golang), decodes what gateways publish into ingest.Inputs and
// hands them to an ingest.Sink; StartBroker runs an embedded broker (mochi-mqtt) for
// installations without one.
//
// # Topics and payloads
//
// <unit> is one topic level naming the lifang unit (Config.Unit). Payloads are UTF-8
// JSON objects.
//
// lifang/<unit>/readings carries a batch of readings:
//
//	{"readings":[
//	  {"point":"bldg1/elec/active_energy","timestamp":"2024-05-01T12:00:00+08:00",
//	   "value":1.5,"unit":"kWh","quality":"good"}
//	]}
//
// lifang/<unit>/readings/<point path…> carries one reading of the point named by the
// rest of the topic (lifang/u1/readings/bldg1/elec/active_energy is point
// "bldg1/elec/active_energy"):
//
//	{"timestamp":"2024-05-01T12:00:00+08:00","value":1.5,"unit":"kWh"}
//
// lifang/<unit>/events carries a batch of events:
//
//	{"events":[
//	  {"kind":"gate_in","source":"gate-1","timestamp":"2024-05-01T12:00:00Z",
//	   "attrs":{"plate_hash":"9f86d081"}}
//	]}
//
// Fields of a reading: point (string; in batches only), timestamp (RFC 3339 string),
// value (JSON number), unit (string; surrounding spaces trimmed, otherwise passed as
// given) and quality (optional: "good" — the default —, "estimated" or
// "substituted"). Fields of an event: kind, source, timestamp (all required strings)
// and attrs (optional object of string values).
//
// # Strict decoding
//
// Decode accepts exactly this schema. Nothing is dropped silently: a payload that is
// larger than the limit (default 1 MiB), not UTF-8 text (invalid or NUL bytes, shown
// as U+FFFD in Raw so that any store can keep it), not JSON, not an object, has an
// unknown, duplicate or missing top-level field, or holds more than ingest.MaxBatch
// elements becomes one store.Rejected whose Raw is the payload (cut to its first 4 KiB
// when it is over the size limit, so a flood cannot fill the quarantine); a bad
// element of a batch — unknown, duplicate or missing field, wrong JSON type, a value
// that is not a finite float64 (1e999), a timestamp that is not RFC 3339, an unknown
// quality — becomes a store.Rejected whose Raw is that element's JSON, and the good
// elements of the same batch go through. Every Rejected has Source "mqtt:<topic>" and
// a Reason naming the element, the field and the problem. Units, point names, value
// ranges and timestamps are checked by the Sink (ingest.Pipeline), not here.
//
// # Delivery and acknowledgement
//
// Run subscribes at Config.QoS (1 by default, 2 allowed) to lifang/<unit>/readings/#
// (which also matches lifang/<unit>/readings) and lifang/<unit>/events, with a
// persistent session: a fixed client id, Clean Start 0 and a Session Expiry Interval
// (Config.SessionExpiry, default 24 h). Messages are grouped per unit into one Input
// per Config.FlushInterval, or sooner when ingest.MaxBatch readings or
// MaxInflight messages are pending; an Input's Source is "mqtt:" followed by the topic
// levels its messages share ("mqtt:lifang/u1/readings").
//
// The client uses paho's manual acknowledgement (ClientConfig.EnableManualAcknowledgment,
// available in paho.golang v0.23): the PUBACK (QoS 1) or PUBREC (QoS 2) of a message
// is sent only after Sink.Ingest returned nil for the Input that contains it, in the
// order the messages arrived, as MQTT requires (paho buffers an ack until every
// earlier message is acked too and sends them every few milliseconds). MQTT has no
// negative acknowledgement, and a broker redelivers an unacknowledged message only
// when the session is resumed on a new connection (MQTT 5 §4.4). So when the Sink
// fails, Run drops the connection without acknowledging the Input's messages, waits
// (exponential backoff from 250 ms to 30 s) and reconnects; the broker then redelivers
// them. A crash has the same effect, as long as the subscriber restarts with the same
// client id before the session expires. Delivery is therefore at least once: a message
// whose Input was ingested but whose ack was lost comes again, which the Sink absorbs
// (duplicates are idempotent). Messages received but not yet flushed when ctx ends are
// not acknowledged and come again on the next start.
//
// Limits of these semantics:
//   - Messages published at QoS 0 are delivered at most once whatever Config.QoS is.
//   - Two subscribers must not share a client id: they would take the session from
//     each other.
//   - Throughput is bounded by the broker's in-flight window: a broker sends at most
//     that many unacknowledged messages to a client and acks come only after a flush,
//     so at most one window per FlushInterval passes. Run announces a Receive Maximum
//     of MaxInflight; Mosquitto also applies its own max_inflight_messages (default
//     20, i.e. 100 messages/s at the default 200 ms): raise it for busy units.
//   - Run asks the broker not to send packets over 4 × MaxPayload + 64 KiB (MQTT 5
//     Maximum Packet Size); larger messages are discarded by the broker and never
//     reach Run, so they cannot be quarantined.
//   - A retained message is delivered again on every new subscription.
//   - The embedded broker (mochi-mqtt v2.7.9) redelivers a resumed session's messages
//     in no particular order, and refuses a SUBSCRIBE whose packet identifier is that
//     of a message it has in flight to the client (0x91), which MQTT 5 §2.2.1 does not
//     ask for. Run then relies on the resumed session's subscriptions — a session
//     with messages in flight has them — and subscribes again after its first flush.
package mqtt
