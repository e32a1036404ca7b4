// A stand-in OpenTelemetry collector for the tracing row: takes each OTLP/HTTP export and
// answers 200, so that what is measured is the service's side of tracing, not a collector's.
import { createServer } from 'node:http'

createServer((request, response) => {
  request.resume()
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end())
}).listen(Number(process.env.PORT ?? 0), '127.0.0.1')
