//go:build race

package router

// raceEnabled: the race detector slows the simulation down several times.
const raceEnabled = true
