// Drives a responsestest server (started from the Go program whose path is
// in SERVE_BIN) with the official openai npm client and runs one agent of
// the JS Agents SDK with a function tool. Every streamed event, output item
// and response object is checked against the fields the openai package's
// own type declarations (resources/responses/responses.d.ts) give for its
// type: a key no declaration has is a failure. Prints one line per check
// and a closing "N passed, N failed" line; exits non-zero on a failure.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import OpenAI from 'openai';
import { Agent, run, tool, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled } from '@openai/agents';
import { z } from 'zod';

const serveBin = process.env.SERVE_BIN;
if (!serveBin) {
  console.error('conformance: SERVE_BIN must name the responsestest serve binary (see run.sh)');
  process.exit(2);
}

// --- the SDK's declared fields, by type literal -------------------------
const require = createRequire(import.meta.url);
const dts = readFileSync(join(dirname(require.resolve('openai')), 'resources/responses/responses.d.ts'), 'utf8');
const byName = new Map(); // interface name -> Set of fields
const byType = new Map(); // type literal -> Set of fields (union over interfaces)
{
  let name = null, fields = null, literal = null;
  for (const line of dts.split('\n')) {
    const open = line.match(/^export interface (\w+) \{/);
    if (open) { name = open[1]; fields = new Set(); literal = null; continue; }
    if (name === null) continue;
    if (line === '}') {
      byName.set(name, fields);
      if (literal) byType.set(literal, new Set([...(byType.get(literal) ?? []), ...fields]));
      name = null;
      continue;
    }
    const f = line.match(/^    (\w+)\??:/);
    if (f) fields.add(f[1]);
    const t = line.match(/^    type: '([^']+)';/);
    if (t) literal = t[1];
  }
}

let passed = 0, failed = 0;
function ok(what) { passed++; console.log(`ok   ${what}`); }
function fail(what, why) { failed++; console.log(`FAIL ${what}: ${why}`); }
function check(what, cond, why) { cond ? ok(what) : fail(what, why); }

const problems = [];
function known(what, obj, fields) {
  if (!fields) { problems.push(`${what}: no declared type`); return; }
  const extra = Object.keys(obj).filter((k) => !fields.has(k));
  if (extra.length) problems.push(`${what}: unknown ${extra.join(',')}`);
}
// store is echoed on purpose (our client and the wire doc read it); the
// SDK's Response does not declare it. Same deviation as the Go test.
const responseFields = new Set([...(byName.get('Response') ?? []), 'store']);
function checkResponse(what, r) {
  known(what, r, responseFields);
  if (r.usage) known(`${what}.usage`, r.usage, byName.get('ResponseUsage'));
  for (const it of r.output ?? []) known(`${what} item ${it.type}`, it, byType.get(it.type));
}
function checkEvent(ev) {
  known(`event ${ev.type}`, ev, byType.get(ev.type));
  if (ev.response) checkResponse(`event ${ev.type}.response`, ev.response);
  if (ev.item) known(`event ${ev.type} item ${ev.item.type}`, ev.item, byType.get(ev.item.type));
}
function clean(what) {
  check(`${what}: every key declared by the openai package`, problems.length === 0, problems.join('; '));
  problems.length = 0;
}

// --- the server ----------------------------------------------------------
const server = spawn(serveBin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: server.stdout });
const base = await new Promise((resolve, reject) => {
  lines.once('line', (l) => (l.startsWith('URL ') ? resolve(l.slice(4)) : reject(new Error(`serve said ${l}`))));
  server.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
});
const tail = [];
lines.on('line', (l) => tail.push(l));

const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-test', maxRetries: 0 });
const weather = {
  type: 'function', name: 'get_weather', strict: false, description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

try {
  // create
  const r1 = await client.responses.create({ model: 'gpt-test', input: 'Weather in Paris?', tools: [weather] });
  checkResponse('create', r1);
  clean('create');
  const call = r1.output.find((it) => it.type === 'function_call');
  check('create: a function_call', call?.name === 'get_weather', JSON.stringify(r1.output));

  // streaming, chained with the tool output
  const stream = await client.responses.create({
    model: 'gpt-test', stream: true, previous_response_id: r1.id,
    input: [{ type: 'function_call_output', call_id: call.call_id, output: '21C' }],
  });
  const types = [];
  let final;
  let seq = -1, ordered = true;
  for await (const ev of stream) {
    types.push(ev.type);
    checkEvent(ev);
    if (ev.sequence_number !== seq + 1) ordered = false;
    seq = ev.sequence_number;
    if (ev.type === 'response.completed') final = ev.response;
  }
  clean(`stream (${types.length} events)`);
  check('stream: sequence numbers count from 0', ordered, types.join(','));
  check('stream: text quotes the tool', final?.output_text === 'tool said: 21C' || final?.output?.[0]?.content?.[0]?.text === 'tool said: 21C', JSON.stringify(final?.output));

  // other tool output kinds, stateless (each call replayed before its output)
  const r3 = await client.responses.create({
    model: 'gpt-test', store: true,
    input: [
      { type: 'custom_tool_call', call_id: 'call_c', name: 'patch', input: '*** Begin Patch' },
      { type: 'custom_tool_call_output', call_id: 'call_c', output: 'applied' },
      { type: 'shell_call', call_id: 'call_s', action: { commands: ['ls'] } },
      { type: 'shell_call_output', call_id: 'call_s', output: [{ stdout: 'a', stderr: '', outcome: { type: 'exit', exit_code: 0 } }] },
      { type: 'apply_patch_call', call_id: 'call_a', status: 'completed', operation: { type: 'create_file', path: 'a.txt', diff: '+x' } },
      { type: 'apply_patch_call_output', call_id: 'call_a', status: 'completed' },
    ],
  });
  checkResponse('tool outputs', r3);
  clean('tool outputs');

  // retrieval, input items, delete
  const got = await client.responses.retrieve(r3.id);
  checkResponse('retrieve', got);
  clean('retrieve');
  check('retrieve: same response', got.id === r3.id && got.status === 'completed', got.status);
  const itemsPage = await client.responses.inputItems.list(r3.id, { order: 'asc' });
  for (const it of itemsPage.data) known(`input item ${it.type}`, it, byType.get(it.type));
  clean(`input items (${itemsPage.data.length})`);
  check('input items: all six', itemsPage.data.length === 6, String(itemsPage.data.length));

  // background, polled; cancel
  let bg = await client.responses.create({ model: 'gpt-test', input: 'slow', background: true });
  const statuses = [bg.status];
  while (bg.status === 'queued' || bg.status === 'in_progress') {
    bg = await client.responses.retrieve(bg.id);
    statuses.push(bg.status);
  }
  checkResponse('background', bg);
  clean('background');
  check('background: queued, polled to completed', statuses.join(',') === 'queued,in_progress,completed', statuses.join(','));
  const bg2 = await client.responses.create({ model: 'gpt-test', input: 'slow', background: true });
  const cancelled = await client.responses.cancel(bg2.id);
  check('cancel: cancelled', cancelled.status === 'cancelled', cancelled.status);

  await client.responses.delete(r1.id);
  try {
    await client.responses.retrieve(r1.id);
    fail('delete', 'retrieval still works');
  } catch (e) {
    check('delete: then 404', e.status === 404, String(e));
  }

  // error paths
  for (const [what, body, param, code] of [
    ['unknown parameter', { model: 'gpt-test', input: 'x', temprature: 1 }, 'temprature', 'unknown_parameter'],
    ['temperature out of range', { model: 'gpt-test', input: 'x', temperature: 5 }, 'temperature', 'decimal_above_max_value'],
    ['missing input', { model: 'gpt-test' }, 'input', 'missing_required_parameter'],
    ['nameless tool', { model: 'gpt-test', input: 'x', tools: [{ type: 'function', parameters: {} }] }, 'tools[0].name', 'missing_required_parameter'],
  ]) {
    try {
      await client.responses.create(body);
      fail(what, 'accepted');
    } catch (e) {
      check(`${what}: 400 ${e.param} ${e.code}`, e.status === 400 && e.type === 'invalid_request_error' && e.param === param && e.code === code,
        `${e.status} ${e.type} ${e.param} ${e.code} ${e.message}`);
    }
  }

  // one Agents SDK agent with a function tool, plain and streamed
  setDefaultOpenAIClient(client);
  setOpenAIAPI('responses');
  setTracingDisabled(true);
  const getWeather = tool({
    name: 'get_weather', description: 'Weather for a city',
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => `21C in ${city}`,
  });
  const agent = new Agent({ name: 'Weather', instructions: 'Answer briefly.', model: 'gpt-test', tools: [getWeather] });
  const result = await run(agent, 'Weather in Paris?');
  check('agent: ran the tool and answered', result.finalOutput === 'tool said: 21C in Paris', String(result.finalOutput));
  const streamed = await run(agent, 'Weather in Paris?', { stream: true });
  for await (const ev of streamed) {
    if (ev.type === 'raw_model_stream_event' && ev.data?.type === 'model' && ev.data.event) checkEvent(ev.data.event);
  }
  await streamed.completed;
  clean('agent stream events');
  check('agent streamed: answered', streamed.finalOutput === 'tool said: 21C in Paris', String(streamed.finalOutput));
} catch (e) {
  fail('conformance', e?.stack ?? String(e));
}

server.stdin.end();
const code = await new Promise((resolve) => server.once('exit', resolve));
for (const l of tail) console.log(`serve: ${l}`);
check('server: no script mismatch', code === 0, `serve exited ${code}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
