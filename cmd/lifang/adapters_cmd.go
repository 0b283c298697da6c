package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lifang-community/lifang/ingest/modbus"
	"github.com/lifang-community/lifang/ingest/mqtt"
	"github.com/lifang-community/lifang/ingest/ocpp"
	"github.com/lifang-community/lifang/reading"
)

// serveContext is cancelled by SIGINT or SIGTERM.
func serveContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// server is what a long-running ingest command needs: a context ended by a signal, a
// logger and the open database; close releases them.
type server struct {
	ctx   context.Context
	log   *slog.Logger
	data  *dataset
	close func()
}

func startServer(db string, stderr io.Writer) (*server, error) {
	ctx, stop := serveContext()
	d, err := openData(ctx, db, "", sqliteOptions())
	if err != nil {
		stop()
		return nil, err
	}
	return &server{ctx: ctx, log: slog.New(slog.NewTextHandler(stderr, nil)), data: d, close: func() { d.Close(); stop() }}, nil
}

// ingestMQTT subscribes to a broker (or starts an embedded one) until interrupted.
func ingestMQTT(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest mqtt", "--db PATH (--broker URL | --embedded ADDR) [--unit ID]", stderr)
	db := fs.String("db", "", "SQLite database")
	broker := fs.String("broker", os.Getenv("LIFANG_MQTT_URL"), "broker URL, tcp://host:port (default $LIFANG_MQTT_URL)")
	embedded := fs.String("embedded", "", "start an embedded broker on this address instead (e.g. 127.0.0.1:1883)")
	unitID := fs.String("unit", "+", "the <unit> topic level to subscribe to (+ for all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *broker == "" && *embedded == "" {
		return usageError{"give --broker URL, --embedded ADDR or set LIFANG_MQTT_URL"}
	}
	srv, err := startServer(*db, stderr)
	if err != nil {
		return err
	}
	defer srv.close()
	if *embedded != "" {
		b, err := mqtt.StartBroker(*embedded, srv.log)
		if err != nil {
			return err
		}
		defer b.Close()
		*broker = "tcp://" + b.Addr()
		fmt.Fprintf(stdout, "embedded MQTT broker on %s\n", b.Addr())
	}
	fmt.Fprintf(stdout, "subscribed to lifang/%s/readings/# and lifang/%s/events on %s\n", *unitID, *unitID, *broker)
	return mqtt.Run(srv.ctx, mqtt.Config{BrokerURL: *broker, Unit: *unitID}, srv.data.pipeline(srv.log), srv.log)
}

// ingestOCPP runs the OCPP 1.6J central system until interrupted.
func ingestOCPP(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest ocpp", "--db PATH [--addr HOST:PORT]", stderr)
	db := fs.String("db", "", "SQLite database")
	addr := fs.String("addr", "127.0.0.1:8887", "listen address; chargers connect to ws://ADDR/<chargePointId>")
	if err := parse(fs, args); err != nil {
		return err
	}
	srv, err := startServer(*db, stderr)
	if err != nil {
		return err
	}
	defer srv.close()
	cs := ocpp.NewCentralSystem(ocpp.Config{Addr: *addr}, srv.data.pipeline(srv.log), srv.log)
	if err := cs.Start(); err != nil {
		return err
	}
	defer cs.Stop()
	fmt.Fprintf(stdout, "OCPP 1.6J central system on ws://%s/{chargePointId}\n", cs.Addr())
	<-srv.ctx.Done()
	return nil
}

// ingestModbus polls a Modbus TCP device until interrupted.
func ingestModbus(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest modbus", "--db PATH --url tcp://HOST:PORT --device NAME [--unit-id N] [--interval D]", stderr)
	db := fs.String("db", "", "SQLite database")
	url := fs.String("url", "", "device address, tcp://host:port")
	device := fs.String("device", "", "device name (points are <device>/<register point>)")
	unitID := fs.Uint("unit-id", 1, "Modbus unit id")
	interval := fs.Duration("interval", modbus.DefaultInterval, "time between polls")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *url == "" || *device == "" || *unitID > 255 {
		return usageError{"--url and --device are required; --unit-id must be 0-255"}
	}
	srv, err := startServer(*db, stderr)
	if err != nil {
		return err
	}
	defer srv.close()
	fmt.Fprintf(stdout, "polling %s (unit %d) every %s with the default register map\n", *url, *unitID, *interval)
	err = modbus.Poll(srv.ctx, modbus.Config{URL: *url, UnitID: uint8(*unitID), Device: *device, Interval: *interval}, srv.data.pipeline(srv.log), time.Now, srv.log)
	if srv.ctx.Err() != nil {
		return nil
	}
	return err
}

// runPoints writes the point catalogue of a database as a Brick model (Turtle).
func runPoints(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("points", "--db PATH", stderr)
	db := fs.String("db", "", "SQLite database")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	d, err := openData(ctx, *db, "", sqliteOptions())
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.st.Points(ctx)
	if err != nil {
		return err
	}
	far := time.Unix(0, math.MaxInt64) // the latest instant a reading can have
	pts := make([]reading.Point, 0, len(names))
	for _, n := range names {
		last, _, err := d.st.Neighbours(ctx, n, far)
		if err != nil {
			return err
		}
		unit := ""
		if last != nil {
			unit = last.Unit
		}
		pts = append(pts, reading.NewPoint(n, unit))
	}
	return reading.WriteBrickTurtle(stdout, d.origin, pts)
}
