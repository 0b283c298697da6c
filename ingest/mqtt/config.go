package mqtt

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultQoS           = 1
	DefaultFlushInterval = 200 * time.Millisecond
	DefaultSessionExpiry = 24 * time.Hour
)

// MaxInflight is the Receive Maximum Run announces: the most QoS 1 and 2 messages the
// broker may send before Run acknowledges some. Run flushes when that many are pending.
const MaxInflight = 1024

// ErrConfig is wrapped by the errors Run returns for an invalid Config.
var ErrConfig = errors.New("invalid MQTT config")

// Config configures Run. Zero fields take the defaults given.
type Config struct {
	// BrokerURL is tcp://host:port or mqtt://host:port (port 1883 when absent).
	BrokerURL string
	// Unit is the <unit> topic level to subscribe to; "+" subscribes to all units.
	Unit string
	// ClientID identifies the persistent session at the broker: keep it stable across
	// restarts and unique per subscriber (default "lifang-ingest-<unit>", with "all"
	// for "+").
	ClientID string
	// QoS is the subscription's maximum QoS: 1 (default) or 2. QoS 0 is not offered,
	// since a message lost in transit would never reach the ledger nor the quarantine.
	QoS byte
	// MaxPayload is the largest payload in bytes accepted (default DefaultMaxPayload,
	// 1 MiB); larger payloads are quarantined, cut to their first 4 KiB.
	MaxPayload int
	// FlushInterval is how long messages are gathered into one Input (default 200 ms);
	// an Input is flushed sooner when ingest.MaxBatch readings or MaxInflight messages
	// are pending.
	FlushInterval time.Duration
	// SessionExpiry is how long the broker keeps the session — subscriptions and
	// unacknowledged messages — while the subscriber is down (default 24 h, whole
	// seconds). Added to the brief's Config: redelivery after a crash needs it.
	SessionExpiry time.Duration
	// Subscribed, when set, is called each time the subscription is in place (after
	// every reconnect): a live controller announces itself only once its meters'
	// messages will reach the ledger.
	Subscribed func()
}

// withDefaults returns cfg with zero fields defaulted, or an error wrapping ErrConfig
// naming the field at fault and what would be valid.
func (cfg Config) withDefaults() (Config, error) {
	bad := func(field string, format string, args ...any) (Config, error) {
		return cfg, fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...))
	}
	if _, err := dialAddr(cfg.BrokerURL); err != nil {
		return bad("BrokerURL", "%v", err)
	}
	switch {
	case cfg.Unit == "+":
	case cfg.Unit == "" || strings.ContainsAny(cfg.Unit, "/+#\x00"):
		return bad("Unit", "%q: want one topic level (no '/', '+' or '#') or \"+\" for all units", cfg.Unit)
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "lifang-ingest-" + strings.ReplaceAll(cfg.Unit, "+", "all")
	}
	switch cfg.QoS {
	case 0:
		cfg.QoS = DefaultQoS
	case 1, 2:
	default:
		return bad("QoS", "%d: want 1 or 2", cfg.QoS)
	}
	switch {
	case cfg.MaxPayload == 0:
		cfg.MaxPayload = DefaultMaxPayload
	case cfg.MaxPayload < 0 || cfg.MaxPayload > 64<<20:
		return bad("MaxPayload", "%d bytes: want 1 to 64 MiB (0 for 1 MiB)", cfg.MaxPayload)
	}
	switch {
	case cfg.FlushInterval == 0:
		cfg.FlushInterval = DefaultFlushInterval
	case cfg.FlushInterval < 0:
		return bad("FlushInterval", "%v: want a positive duration (0 for %v)", cfg.FlushInterval, DefaultFlushInterval)
	}
	switch {
	case cfg.SessionExpiry == 0:
		cfg.SessionExpiry = DefaultSessionExpiry
	case cfg.SessionExpiry < time.Second || cfg.SessionExpiry.Seconds() >= math.MaxUint32:
		return bad("SessionExpiry", "%v: want 1 s to 136 years (0 for %v)", cfg.SessionExpiry, DefaultSessionExpiry)
	}
	return cfg, nil
}

// topics are the subscription's topic filters.
func (cfg Config) topics() []string {
	return []string{"lifang/" + cfg.Unit + "/readings/#", "lifang/" + cfg.Unit + "/events"}
}

// dialAddr returns the host:port of a broker URL.
func dialAddr(broker string) (string, error) {
	u, err := url.Parse(broker)
	if err != nil {
		return "", err
	}
	if u.Scheme != "tcp" && u.Scheme != "mqtt" {
		return "", fmt.Errorf("%q: want tcp://host:port or mqtt://host:port", broker)
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("%q: want tcp://host:port or mqtt://host:port, without user, path or query", broker)
	}
	port := u.Port()
	if port == "" {
		port = "1883"
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}
