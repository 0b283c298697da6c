module github.com/lifang-community/lifang

go 1.26.8

require gopkg.in/yaml.v3 v3.0.1

require (
	github.com/eclipse/paho.golang v0.23.0 // indirect
	github.com/goburrow/serial v0.1.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.12.0 // indirect
	github.com/lorenzodonini/ocpp-go v0.19.0 // indirect
	github.com/mattn/go-sqlite3 v1.14.53 // indirect
	github.com/mochi-mqtt/server/v2 v2.7.9 // indirect
	github.com/rs/xid v1.4.0 // indirect
	github.com/simonvetter/modbus v1.6.4 // indirect
	github.com/transparency-dev/formats v0.1.1 // indirect
	golang.org/x/mod v0.43.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)
