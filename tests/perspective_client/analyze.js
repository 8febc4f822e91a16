'use strict';
// Run the npm Perspective client, perspective-api-client@3.1.0, against toxmon and print what it
// got back as one JSON object, for a Python test to assert on.
//
//   node analyze.js BASE_URL API_KEY
//   PERSPECTIVE_BASE_URL=http://127.0.0.1:8000 PERSPECTIVE_API_KEY=... node analyze.js
//
// The client posts to a constant Google URL through axios' default instance, so a request
// interceptor on that same instance sends every call to BASE_URL instead.

const path = require('path');
const Perspective = require('perspective-api-client');

// The axios the client itself loads, wherever npm placed it.
const axios = require(require.resolve('axios', {
  paths: [path.dirname(require.resolve('perspective-api-client'))],
}));

const GOOGLE_ORIGIN = 'https://commentanalyzer.googleapis.com';
const DEFAULT_TEXT = 'Thanks for the article! 😀 You are an idiot.';
const ATTRIBUTES = ['toxicity', 'severe_toxicity', 'identity_attack', 'insult', 'profanity', 'threat'];

function settings(argv, env) {
  const baseUrl = (argv[2] || env.PERSPECTIVE_BASE_URL || '').replace(/\/+$/, '');
  const apiKey = argv[3] || env.PERSPECTIVE_API_KEY || '';
  if (!baseUrl || !apiKey) {
    throw new Error('usage: node analyze.js BASE_URL API_KEY (or PERSPECTIVE_BASE_URL, PERSPECTIVE_API_KEY)');
  }
  return {
    baseUrl,
    apiKey,
    badKey: env.PERSPECTIVE_BAD_KEY || 'not-a-toxmon-key',
    text: env.PERSPECTIVE_TEXT || DEFAULT_TEXT,
  };
}

// Every request the client makes, as it left the interceptor.
const sent = [];

function pointAt(baseUrl) {
  axios.interceptors.request.use(config => {
    config.url = config.url.replace(GOOGLE_ORIGIN, baseUrl);
    // axios 0.18 would follow HTTP_PROXY even to 127.0.0.1; the app is always reached directly.
    config.proxy = false;
    config.timeout = 60000;
    sent.push({method: config.method, url: config.url, params: config.params, data: config.data});
    return config;
  });
}

async function outcome(call) {
  const index = sent.length;
  try {
    const data = await call();
    return {ok: true, data, sent: sent[index]};
  } catch (error) {
    const response = error.response || {};
    return {
      ok: false,
      error: {name: error.name, message: error.message, status: response.status, data: response.data},
      sent: sent[index],
    };
  }
}

async function main() {
  const {baseUrl, apiKey, badKey, text} = settings(process.argv, process.env);
  pointAt(baseUrl);
  const perspective = new Perspective({apiKey});
  const results = {
    // The client sends doNotStore: true unless told otherwise.
    stored: await outcome(() => perspective.analyze(text, {attributes: ATTRIBUTES, doNotStore: false})),
    notStored: await outcome(() => perspective.analyze(text, {attributes: ['toxicity', 'insult']})),
    // A whole AnalyzeComment request, passed through as it is.
    request: await outcome(() => perspective.analyze({
      comment: {text},
      requestedAttributes: {TOXICITY: {scoreThreshold: 0.5}, INSULT: {}},
      spanAnnotations: true,
      languages: ['en'],
      clientToken: 'toxmon-harness',
    })),
    badKey: await outcome(() => new Perspective({apiKey: badKey}).analyze(text)),
  };
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch(error => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(2);
});
