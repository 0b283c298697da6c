package ocpp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/certificates"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/extendedtriggermessage"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/logging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/securefirmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/security"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocppj"
	"github.com/lorenzodonini/ocpp-go/ws"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
)

// DefaultHeartbeatInterval is the heartbeat interval, in seconds, sent to chargers in
// the BootNotification reply when Config.HeartbeatInterval is 0.
const DefaultHeartbeatInterval = 300

// ingestTimeout bounds one sink call; a charger's own call timeout is usually 30 s or
// more, and it retries when it gets no reply.
const ingestTimeout = 20 * time.Second

// startTimeout bounds how long Start waits for the server to listen.
const startTimeout = 5 * time.Second

// Config configures a central system.
type Config struct {
	// Addr is host:port to listen on; chargers connect to ws://host:port/<chargePointId>.
	// Port 0 picks a free port (see CentralSystem.Addr). ocpp-go v0.19 listens on all
	// interfaces of that port whatever the host: the host only says where Start checks
	// that the server is up.
	Addr string
	// AllowedIDTags, when not empty, is the allow-list of idTags (compared without regard
	// to case, as OCPP 1.6 specifies); when empty every idTag is accepted.
	AllowedIDTags []string
	// HeartbeatInterval is the heartbeat interval in seconds sent to chargers at boot;
	// 0 means DefaultHeartbeatInterval.
	HeartbeatInterval int
	// RequestTimeout bounds each request the central system sends a charger (a
	// command's SetChargingProfile, GetCompositeSchedule, …); 0 means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxAttempts is how many times a command's request is sent when the charger does
	// not answer in time or the connection fails; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// RetryBackoff is the wait before the first resend, doubled before each further
	// one; 0 means DefaultRetryBackoff.
	RetryBackoff time.Duration
}

// CentralSystem is an OCPP 1.6J central system that turns charger messages into
// lifang inputs for a sink.
type CentralSystem struct {
	cfg  Config
	sink ingest.Sink
	log  *slog.Logger
	now  func() time.Time

	allowed map[string]bool // lower-cased idTags; nil accepts all

	mu     sync.Mutex
	nextTx int
	open   map[txKey]transaction
	// busy counts charger connections and calls in progress; Stop waits for it to drop
	// to 0, since ocpp-go closes connections and ends handlers after its Stop returns.
	busy int

	// smu guards what the central system knows of charge points and connectors
	// (connector.go); it is never held while calling out.
	smu    sync.Mutex
	points map[string]*pointState
	conns  map[connKey]*ConnectorState

	cs     ocpp16.CentralSystem
	ctx    context.Context // cancelled by Stop: ends pending sink calls
	cancel context.CancelFunc
	addr   string
	done   chan struct{} // closed when the server goroutine returns
}

// txKey identifies a transaction: ids are unique per central system, but keying by
// charge point too keeps one charger from closing another's transaction.
type txKey struct {
	cp string
	id int
}

// transaction is what StopTransaction needs from StartTransaction.
type transaction struct {
	connector  int
	meterStart int // Wh
}

// NewCentralSystem returns a central system sending what chargers report to sink. It
// does not listen until Start.
func NewCentralSystem(cfg Config, sink ingest.Sink, log *slog.Logger) *CentralSystem {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	c := &CentralSystem{
		cfg:    cfg,
		sink:   sink,
		log:    log.With("adapter", "ocpp"),
		now:    time.Now,
		nextTx: 1,
		open:   map[txKey]transaction{},
		points: map[string]*pointState{},
		conns:  map[connKey]*ConnectorState{},
	}
	if len(cfg.AllowedIDTags) > 0 {
		c.allowed = make(map[string]bool, len(cfg.AllowedIDTags))
		for _, t := range cfg.AllowedIDTags {
			c.allowed[strings.ToLower(t)] = true
		}
	}
	return c
}

// Start starts listening and returns once the server accepts connections. It does not
// block; Stop ends the server.
func (c *CentralSystem) Start() error {
	if c.cs != nil {
		return errors.New("ocpp: central system already started")
	}
	host, portText, err := net.SplitHostPort(c.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ocpp: listen address %q: %w", c.cfg.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return fmt.Errorf("ocpp: listen address %q: port %q is not a number in 0–65535", c.cfg.Addr, portText)
	}
	// ocpp-go listens on ":port" and reports a failure to listen only through a log
	// line, so check here that the port is free (and pick one for port 0).
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("ocpp: listen on %s: %w", c.cfg.Addr, err)
	}
	port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	c.addr = net.JoinHostPort(host, strconv.Itoa(port))

	// A probe route with a random token tells our server from anything else that
	// might have taken the port between the check above and ocpp-go's listen.
	var tok [16]byte
	rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	server := ws.NewServer()
	server.AddHttpHandler("/.lifang/ready/"+token, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	// ocpp-go's default endpoint, but with our request timeout: its dispatcher sends one
	// request per charger at a time and cancels it after the timeout, which is what
	// bounds each command request (command.go).
	dispatcher := ocppj.NewDefaultServerDispatcher(ocppj.NewFIFOQueueMap(0))
	dispatcher.SetTimeout(c.cfg.RequestTimeout)
	endpoint := ocppj.NewServer(server, dispatcher, nil, profiles...)
	cs := ocpp16.NewCentralSystem(endpoint, server)
	cs.SetCoreHandler(&coreHandler{c})
	cs.SetSmartChargingHandler(noRequests{})
	cs.SetRemoteTriggerHandler(noRequests{})
	cs.SetNewChargingStationValidationHandler(func(id string, _ *http.Request) bool {
		if err := validChargePointID(id); err != nil {
			c.log.Warn("charger refused", "charge_point", id, "err", err)
			return false
		}
		return true
	})
	cs.SetNewChargePointHandler(func(cp ocpp16.ChargePointConnection) {
		c.enter()
		c.connected(cp.ID(), true)
		c.log.Info("charger connected", "charge_point", cp.ID(), "remote", cp.RemoteAddr().String())
	})
	cs.SetChargePointDisconnectedHandler(func(cp ocpp16.ChargePointConnection) {
		c.connected(cp.ID(), false)
		c.log.Info("charger disconnected", "charge_point", cp.ID())
		c.leave()
	})
	c.cs = cs
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		cs.Start(port, "/{ws}")
	}()

	probe := &http.Client{Timeout: time.Second}
	url := "http://" + c.addr + "/.lifang/ready/" + token
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := probe.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				break
			}
		}
		select {
		case <-c.done:
			c.cancel()
			return fmt.Errorf("ocpp: listen on port %d failed", port)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Stop()
			return fmt.Errorf("ocpp: server on port %d not up after %v", port, startTimeout)
		}
	}
	c.log.Info("central system listening", "addr", c.addr)
	return nil
}

// Addr returns host:port where chargers reach the central system once started (the
// chosen port when Config.Addr asked for port 0).
func (c *CentralSystem) Addr() string { return c.addr }

// Stop closes every charger connection and the listener, and cancels sink calls in
// flight (their chargers get an error and will retry). It returns when connections and
// calls have ended, or after stopTimeout.
func (c *CentralSystem) Stop() {
	if c.cs == nil {
		return
	}
	c.cancel()
	c.cs.Stop()
	<-c.done
	for deadline := time.Now().Add(stopTimeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		busy := c.busy
		c.mu.Unlock()
		if busy <= 0 {
			return
		}
	}
	c.log.Warn("stopped with connections or calls still open")
}

// profiles are the OCPP 1.6 profiles the endpoint speaks: ocpp16.NewCentralSystem's
// defaults, among them SmartCharging and RemoteTrigger, which the commands use.
var profiles = []*ocpp.Profile{
	core.Profile,
	localauth.Profile,
	firmware.Profile,
	reservation.Profile,
	remotetrigger.Profile,
	smartcharging.Profile,
	logging.Profile,
	security.Profile,
	extendedtriggermessage.Profile,
	certificates.Profile,
	securefirmware.Profile,
}

// noRequests is the handler of a profile whose messages all go from the central system
// to the charger (SmartCharging, RemoteTrigger): there is nothing to answer.
type noRequests struct{}

var (
	_ smartcharging.CentralSystemHandler = noRequests{}
	_ remotetrigger.CentralSystemHandler = noRequests{}
)

// stopTimeout bounds how long Stop waits for connections and calls to end.
const stopTimeout = 5 * time.Second

func (c *CentralSystem) enter() {
	c.mu.Lock()
	c.busy++
	c.mu.Unlock()
}

func (c *CentralSystem) leave() {
	c.mu.Lock()
	c.busy--
	c.mu.Unlock()
}

// validChargePointID accepts ids that can prefix a point name ("<cp>/<connector>/…").
func validChargePointID(id string) error {
	if err := reading.ValidName(id); err != nil {
		return err
	}
	if strings.ContainsAny(id, "/\\") || id == "." || id == ".." {
		return fmt.Errorf("charge point id %q contains a path separator", id)
	}
	return nil
}
