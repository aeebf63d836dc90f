// Package model names the server models the serverlab binary runs, for
// every command that takes a model by name: serve's -model, bench's
// -targets and the dashboard's -models. Their constructors live with the
// serve command (serve.go), which a test holds to this list; bench and the
// dashboard need only the names, since they start a model by re-executing
// `serverlab serve -model NAME` and never link a model's code.
//
// It also holds the one policy that differs by model and that both serve
// and its tests must agree on: which protective timeouts a model gets when
// none are asked for.
package model

import (
	"slices"
	"time"

	"serverlab/servers"
)

// names is every model, in the order menus, tables and the dashboard's
// columns show them: from the simplest loop to the most elaborate. Adding a
// model is one line here (and its constructor in serve.go).
var names = []string{
	"blocking",
	"threaded",
	"evloop",
	"uring",
}

// Names lists the models, in menu order.
func Names() []string { return slices.Clone(names) }

// Classic lists the three models of lesson 00's three loops, the ones the
// dashboard shows unless asked for others: three columns fit a projector
// that four would crowd.
func Classic() []string { return slices.Clone(names[:3]) }

// Known reports whether name is a model.
func Known(name string) bool { return slices.Contains(names, name) }

// protective are the timeouts a model gets by default: generous enough that
// no honest client meets them, tight enough that a slow or silent one
// cannot hold a connection for ever.
var protective = servers.Limits{
	HeaderTimeout: 10 * time.Second,
	IdleTimeout:   60 * time.Second,
	WriteTimeout:  30 * time.Second,
}

// ProtectiveLimits are the timeouts every model but blocking gets by
// default.
func ProtectiveLimits() servers.Limits { return protective }

// DefaultLimits are the limits model gets when none are asked for. The
// blocking model gets none, on purpose: its freeze under a slow client is
// the lesson, and a timeout would hide it.
func DefaultLimits(model string) servers.Limits {
	if model == "blocking" {
		return servers.Limits{}
	}
	return protective
}
