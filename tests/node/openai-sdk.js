// The official openai npm package against natter serve: one streaming and one
// non-streaming chat, and an error that the SDK must raise with its status. Prints TAP
// lines. Usage: NODE_PATH=DIR/node_modules node openai-sdk.js BASE_URL TOKEN MODEL
'use strict';
const { OpenAI } = require('openai');

const [baseURL, apiKey, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20000 });
let n = 0;

function check(ok, desc, detail) {
	n++;
	console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${desc}`);
	if (!ok && detail !== undefined)
		console.log(`#   ${String(detail).split('\n').join('\n#   ')}`);
}

async function main() {
	try {
		const r = await client.chat.completions.create({
			model, messages: [{ role: 'user', content: 'tokens=4' }],
		});
		check(r.choices[0].message.content === 'w1 w2 w3 w4' &&
		    r.choices[0].finish_reason === 'stop' && r.usage.completion_tokens === 4,
		    'SDK: non-streaming chat', JSON.stringify(r));
	} catch (e) {
		check(false, 'SDK: non-streaming chat', e.stack);
	}
	try {
		const stream = await client.chat.completions.create({
			model, stream: true, stream_options: { include_usage: true },
			messages: [{ role: 'system', content: 'be brief' },
			    { role: 'user', content: 'tokens=6 think=2' }],
		});
		let text = '', reasoning = '', finish = null, usage = null;
		for await (const chunk of stream) {
			if (chunk.usage)
				usage = chunk.usage;
			for (const c of chunk.choices) {
				text += c.delta.content || '';
				reasoning += c.delta.reasoning_content || '';
				finish = c.finish_reason || finish;
			}
		}
		check(text === 'w1 w2 w3 w4 w5 w6' && reasoning === 'r1 r2' && finish === 'stop' &&
		    usage !== null, 'SDK: streaming chat with reasoning and usage',
		    JSON.stringify({ text, reasoning, finish, usage }));
	} catch (e) {
		check(false, 'SDK: streaming chat with reasoning and usage', e.stack);
	}
	try {
		await client.chat.completions.create({
			model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }],
		});
		check(false, 'SDK: an unknown model raises NotFoundError');
	} catch (e) {
		check(e instanceof OpenAI.NotFoundError && e.status === 404,
		    'SDK: an unknown model raises NotFoundError', e.stack);
	}
	try {
		const list = await client.models.list();
		check(list.data.some((m) => m.id === model), 'SDK: models.list has the model');
	} catch (e) {
		check(false, 'SDK: models.list has the model', e.stack);
	}
}

main();
