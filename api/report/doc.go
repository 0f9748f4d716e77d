// Package report renders a control-API snapshot as the classic pim6stat
// report, in the order and layout of KAME pim6sd's dump (debug.c, 2005):
// Multicast Interface Table, PIM Neighbor List, MLD Querier List, Reported MLD
// Group, Multicast Routing Table, RP-Set and CallOut Timer Queue.
//
// Where KAME printed timer ids to be looked up in the CallOut Timer Queue, the
// report prints the seconds left directly (rounded up, so a running timer never
// shows 0). Interface names and oif strings follow KAME: the register mif is
// shown as "regist", and an oif string has one character per mif, from mif 0.
// Trailing spaces are trimmed from every line.
//
// Additions to KAME's layout, none of which moves a column KAME had: (S,G,rpt)
// entries, which KAME did not keep, get their own header in the routing
// table; the CallOut Timer Queue has a third column naming each timer; the
// report does not begin with KAME's empty line.
package report
