package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"serverlab/trace"
)

// serverlab trace -pseudocode prints each event beside the line of lesson
// 00's pseudocode that it carries out, so that a student reads the trace as
// the loop's program counter moving down the page: the left column is where
// the loop is, the right one what it did there.

// codeLine is one line of a loop's pseudocode, and the functions of the
// model whose steps it stands for. A state machine's move is shown on the
// line of the state it moves to, named among the funcs.
type codeLine struct {
	text  string
	funcs []string
}

// pseudocode is lesson 00's loops, a little more detailed where the trace
// shows more, for each model that has its loop written down.
var pseudocode = map[string][]codeLine{
	"blocking": {
		{"for ever:", nil},
		{"    fd = accept()", []string{"(*server).Serve"}},
		{"    until the client is done:", nil},
		{"        read(fd)", []string{"(*Conn).readRequest"}},
		{"        session decides the response", []string{"(*Conn).Serve", "(*Conn).fetchFile"}},
		{"        send(fd, head)", []string{"(*Conn).send", "(*Conn).writeHead"}},
		{"        sendfile(fd, file)", []string{"(*Conn).sendFile", "(*Conn).copyFile"}},
		{"    close(fd)", []string{"(*Conn).closeConn", "(*Conn).lingerClose"}},
	},
	"threaded": {
		{"for ever:", nil},
		{"    fd = accept()", []string{"(*goServer).acceptConn", "(*osServer).Serve"}},
		{"    start a goroutine that, for fd:", nil},
		{"        read(fd)", []string{"(*Conn).readRequest"}},
		{"        session decides the response", []string{"(*Conn).Serve", "(*Conn).fetchFile"}},
		{"        send(fd, head)", []string{"(*Conn).send", "(*Conn).writeHead"}},
		{"        sendfile(fd, file)", []string{"(*Conn).sendFile", "(*Conn).copyFile"}},
		{"        close(fd)", []string{"(*Conn).closeConn", "(*Conn).lingerClose"}},
	},
	"evloop": {
		{"for ever:", nil},
		{"    ready = epoll_wait()", []string{"(*loop).run"}},
		{"    for each ready descriptor:", nil},
		{"        listener?  CONNECTED: accept, watch them", []string{"(*loop).acceptConn", "(*loop).openConn"}},
		{"        eventfd?   FILE_OPENED, FILE_READ", []string{"(*loop).wakeUp", "(*loop).fileReady", "(*loop).settle"}},
		{"        a client?  move its state machine on:", nil},
		{"            readingRequest: read; REQUEST_READ?", []string{"(*loop).readRequest", "readingRequest"}},
		{"            openingFile:    open the file", []string{"(*loop).openFile", "(*loop).submit", "openingFile"}},
		{"            fetchingFile:   fetch the file", []string{"(*loop).startFile", "fetchingFile"}},
		{"            writingHead:    write the head", []string{"(*loop).writeHead", "writingHead"}},
		{"            writingBody:    write the body", []string{"(*loop).writeBody", "(*loop).finishResponse", "writingBody"}},
		{"            writingHeld:    write answers held", []string{"(*loop).writeHeld", "(*loop).hold", "writingHeld"}},
		{"            closing:        close", []string{"(*loop).lingerClose", "(*loop).closeConn", "closing", "closed"}},
		{"            (waiting: tell epoll what for)", []string{"(*loop).watch", "(*loop).wait"}},
		{"    expire the deadlines that are due", []string{"(*loop).expire", "(*loop).expireTimers"}},
	},
	"uring": {
		{"for ever:", nil},
		{"    submit the requests; done = io_uring_enter()", []string{"(*loop).run"}},
		{"    for each completion: conn = its user data", []string{"(*loop).completed"}},
		{"        NEW_TCP_CONNECTION: start reading", []string{"(*loop).acceptConn", "(*loop).openConn"}},
		{"        receivingRequest: REQUEST_READ? else recv", []string{"(*loop).receiveRequest", "receivingRequest"}},
		{"        openingFile:  start opening the file", []string{"(*loop).openFile", "(*loop).beginResponse", "openingFile"}},
		{"        fetchingFile: start reading the file", []string{"(*loop).fetchFile", "fetchingFile"}},
		{"        sendingResponse: start writing", []string{"(*loop).sendResponse", "sendingResponse"}},
		{"        lingering, closing: start the close", []string{"(*loop).linger", "(*loop).closeConn", "lingering", "closing"}},
		{"    expire the deadlines that are due: cancel", []string{"(*loop).expire", "(*loop).expireTimers", "(*loop).interrupt", "(*loop).cancel"}},
	},
}

// codeWidth is the pseudocode column's width.
const codeWidth = 50

// lineFor finds the pseudocode line that ev's function carries out, or -1.
func lineFor(code []codeLine, ev trace.Event) int {
	key := ev.Func
	if ev.Kind == trace.State {
		key = ev.To
	}
	for i, l := range code {
		for _, f := range l.funcs {
			if f == key {
				return i
			}
		}
	}
	return -1
}

// besidePrinter prints events beside a model's pseudocode.
type besidePrinter struct {
	w    io.Writer
	code []codeLine
	last int // the line shown last: it is not repeated
}

func newBesidePrinter(w io.Writer, model string) (*besidePrinter, error) {
	code, ok := pseudocode[model]
	if !ok {
		return nil, fmt.Errorf("-pseudocode: no pseudocode for %s", model)
	}
	return &besidePrinter{w: w, code: code, last: -1}, nil
}

func (p *besidePrinter) header(model string) {
	fmt.Fprintf(p.w, "%-*s │ %-11s %-10s %-11s %s\n", codeWidth, "lesson 00's loop ("+model+")", "time", "turn/tid", "conn", "what it did")
	fmt.Fprintf(p.w, "%s─┼─%s\n", strings.Repeat("─", codeWidth), strings.Repeat("─", 84))
}

// print shows ev, with its pseudocode line when the loop has moved to
// another one. The lines the loop passed through on the way there (a
// "for each" header, say) are not printed: the trace shows what ran.
func (p *besidePrinter) print(ev trace.Event, start time.Time) {
	left := ""
	switch i := lineFor(p.code, ev); {
	case ev.Kind == trace.On || ev.Kind == trace.Drop || ev.Kind == trace.Hold || ev.Kind == trace.Run:
		left = ""
	case i < 0:
		left = "    ? " + ev.Func
	case i != p.last:
		left, p.last = p.code[i].text, i
	}
	who := ev.Who()
	turn := ""
	switch {
	case ev.Turn > 0:
		turn = fmt.Sprintf("turn %d", ev.Turn)
	case ev.Tid > 0:
		turn = fmt.Sprintf("tid %d", ev.Tid)
	}
	fmt.Fprintf(p.w, "%-*s │ %-11s %-10s %-11s %s\n", codeWidth, left, trace.Elapsed(ev.Time.Sub(start)), turn, who, ev.What())
}
