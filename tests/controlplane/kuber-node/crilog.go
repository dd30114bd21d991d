package main

import (
	"bytes"
	"io"
	"os"
	"sync"
	"time"
)

// maxLogLine is where a long line is split into partial (P) entries, as CRI runtimes do.
const maxLogLine = 16 * 1024

// criLog writes a container's output in the CRI log format the kubelet reads:
// `<RFC3339Nano> stdout|stderr F|P <line>`.
type criLog struct {
	mu sync.Mutex
	f  *os.File
}

func openCRILog(path string) (*criLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &criLog{f: f}, nil
}

func (l *criLog) entry(stream, tag string, line []byte) {
	var b bytes.Buffer
	b.WriteString(time.Now().Format(time.RFC3339Nano))
	b.WriteString(" " + stream + " " + tag + " ")
	b.Write(line)
	b.WriteByte('\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.f.Write(b.Bytes())
}

func (l *criLog) Close() error { return l.f.Close() }

// lineSplitter turns one stream's bytes into log entries.
type lineSplitter struct {
	log    *criLog
	stream string
	buf    []byte
}

func (s *lineSplitter) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		switch {
		case i >= 0 && i <= maxLogLine:
			s.log.entry(s.stream, "F", s.buf[:i])
			s.buf = s.buf[i+1:]
		case len(s.buf) > maxLogLine:
			s.log.entry(s.stream, "P", s.buf[:maxLogLine])
			s.buf = s.buf[maxLogLine:]
		default:
			s.buf = append([]byte(nil), s.buf...)
			return len(p), nil
		}
	}
}

func (s *lineSplitter) flush() {
	if len(s.buf) > 0 {
		s.log.entry(s.stream, "F", s.buf)
		s.buf = nil
	}
}

// fanout copies a container's live output to attached clients; a client that falls behind
// by more than subscriberBuffer chunks is dropped rather than slowing the container down.
type fanout struct {
	mu   sync.Mutex
	next int
	subs map[int]*subscriber
}

const subscriberBuffer = 256

type subscriber struct {
	ch   chan []byte
	fail chan struct{} // closed when the client is gone (write error or dropped)
	done chan struct{} // closed when copyTo has returned
	once sync.Once
}

func newFanout() *fanout { return &fanout{subs: map[int]*subscriber{}} }

// subscribe adds w; the channel closes when w is dropped or a write to it fails.
func (f *fanout) subscribe(w io.Writer) (int, <-chan struct{}) {
	s := &subscriber{ch: make(chan []byte, subscriberBuffer), fail: make(chan struct{}), done: make(chan struct{})}
	go s.copyTo(w)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	f.subs[f.next] = s
	return f.next, s.fail
}

func (s *subscriber) copyTo(w io.Writer) {
	defer close(s.done)
	for b := range s.ch {
		if _, err := w.Write(b); err != nil {
			s.once.Do(func() { close(s.fail) })
			for range s.ch {
			}
			return
		}
	}
}

func (f *fanout) unsubscribe(id int) {
	f.mu.Lock()
	s, ok := f.subs[id]
	delete(f.subs, id)
	f.mu.Unlock()
	if !ok {
		return
	}
	close(s.ch)
	select { // let the client have what was queued for it
	case <-s.done:
	case <-time.After(time.Second):
	}
	s.once.Do(func() { close(s.fail) })
}

func (f *fanout) Write(p []byte) (int, error) {
	b := append([]byte(nil), p...)
	var dropped []int
	f.mu.Lock()
	for id, s := range f.subs {
		select {
		case s.ch <- b:
		default:
			dropped = append(dropped, id)
		}
	}
	f.mu.Unlock()
	for _, id := range dropped {
		go f.unsubscribe(id)
	}
	return len(p), nil
}

// pump copies a process's output stream to its log and its attached clients until EOF.
func pump(r io.ReadCloser, s *lineSplitter, f *fanout, done func()) {
	defer done()
	defer r.Close()
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = s.Write(buf[:n])
			_, _ = f.Write(buf[:n])
		}
		if err != nil {
			s.flush()
			return
		}
	}
}
