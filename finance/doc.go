// Package finance turns a community's operating results into an asset an investor can
// price: a monthly cash-flow projection over 20–30 years, the C-REIT distributable
// amount and its compliance checks, a DCF valuation, debt sizing, Monte Carlo risk over
// correlated drivers, and a securitisation waterfall with tranches, reserves, triggers
// and a liquidity facility.
//
// Reported money is Fen (int64 fen, exact to 0.01 CNY); simulation runs in float64 and
// is rounded to the fen where cash enters the waterfall, so every period of every path
// conserves cash exactly.
package finance
