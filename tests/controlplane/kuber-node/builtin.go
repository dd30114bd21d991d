package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

const welcomePage = `<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body>
<h1>Welcome to nginx!</h1>
<p>Served by kuber-node serve-http.</p>
</body>
</html>
`

type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint(*l) }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// serveHTTPMain is `kuber-node serve-http --listen=ADDR...`, the nginx and httpd images.
func serveHTTPMain(args []string) int {
	fs := flag.NewFlagSet("serve-http", flag.ContinueOnError)
	var listen listFlag
	fs.Var(&listen, "listen", "address to serve on (repeatable)")
	if err := fs.Parse(args); err != nil || len(listen) == 0 {
		fmt.Fprintln(os.Stderr, "usage: kuber-node serve-http --listen=ADDR...")
		return 2
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/bytes", serveBytes)
	mux.HandleFunc("/", serveWelcome)
	errs := make(chan error, len(listen))
	for _, addr := range listen {
		fmt.Printf("serving HTTP on %s\n", addr)
		go func() { errs <- http.ListenAndServe(addr, logRequests(mux)) }()
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-errs:
		log.Printf("serve-http: %v", err)
		return 1
	case <-stop:
		return 0
	}
}

func logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("%s %s %s\n", r.RemoteAddr, r.Method, r.URL.RequestURI())
		h.ServeHTTP(w, r)
	})
}

func serveWelcome(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" && r.URL.Path != "/index.html" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprint(w, welcomePage)
}

// serveBytes answers /bytes?n=N with N bytes of a repeating pattern.
func serveBytes(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	if err != nil || n < 0 {
		http.Error(w, "n must be a byte count", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		n -= k
	}
}

// pauseMain is `kuber-node pause`, the pause image: sleep until signalled.
func pauseMain() int {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	return 0
}
