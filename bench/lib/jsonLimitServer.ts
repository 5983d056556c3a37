// The HTTP + JSON limit of this machine: an express route that parses the same JSON body as the
// agent's infer route and answers a fixed response of the same shape. Prints its port on stdout.
import express from 'express';

const answer = {
  model_name: 'digits',
  model_version: '2',
  id: 'mnist-7-4',
  outputs: [{ name: 'probs', datatype: 'FP32', shape: [1, 10], data: [2.7e-5, 1.2e-9, 1.1e-6, 1.4e-4, 4.0e-8, 6.7e-6, 1.2e-9, 0.9965246319770813, 4.0e-6, 3.2e-3] }],
};
const app = express();
app.use(express.json({ limit: 8 * 1024 * 1024 }));
app.post('/v2/models/:model/versions/:version/infer', (req, res) => {
  if (!Array.isArray((req.body as { inputs?: unknown }).inputs)) return void res.status(400).json({ error: 'no inputs' });
  res.json(answer);
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
