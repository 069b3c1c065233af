"""A Prometheus endpoint to scrape: a sample exposition, served over real HTTP."""

import http.server
import threading
from contextlib import contextmanager

# What the bundled server's /metrics looks like (two workers, names of
# prometheus-fastapi-instrumentator and server/metrics.py), trimmed.
EXPOSITION = """\
# HELP http_requests_total Total number of requests by method, status and handler.
# TYPE http_requests_total counter
http_requests_total{handler="/addNumbers",method="POST",status="2xx"} 60.0
http_requests_total{handler="/addNumbers",method="POST",status="5xx"} 40.0
http_requests_total{handler="/",method="GET",status="2xx"} 25.0
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{handler="/addNumbers",le="0.1",method="POST"} 100.0
http_request_duration_seconds_bucket{handler="/addNumbers",le="+Inf",method="POST"} 100.0
http_request_duration_seconds_count{handler="/addNumbers",method="POST"} 100.0
http_request_duration_seconds_sum{handler="/addNumbers",method="POST"} 0.2
# TYPE http_requests_inprogress gauge
http_requests_inprogress{handler="/addNumbers",method="POST"} 2.0
http_requests_inprogress{handler="/",method="GET"} 1.0
# TYPE event_loop_lag_seconds histogram
event_loop_lag_seconds_bucket{le="0.001"} 90.0
event_loop_lag_seconds_bucket{le="0.1"} 99.0
event_loop_lag_seconds_bucket{le="2.5"} 100.0
event_loop_lag_seconds_bucket{le="+Inf"} 100.0
event_loop_lag_seconds_count 100.0
event_loop_lag_seconds_sum 1.9
# TYPE event_loop_lag_max_seconds gauge
event_loop_lag_max_seconds{pid="101"} 1.9
event_loop_lag_max_seconds{pid="102"} 0.002
"""


@contextmanager
def serving(status, body):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    finally:
        server.shutdown()
        server.server_close()
