'use strict';
// An OCPP 1.6J charge point built on ocpp-rpc, a peer written independently of lifang
// and of ocpp-go, run by ingest/ocpp's TestInteropOCPPRPCSchemas:
//
//   node charger.js ws://127.0.0.1:<port> <chargePointId>
//
// It connects in strict mode, boots, reports its two connectors, starts a transaction
// on connector 1 and then answers the central system's commands. Every CALL it
// receives is checked against ocpp-rpc's bundled OCPP 1.6 JSON schemas twice: by
// ocpp-rpc's strict mode, which answers a CallError instead of calling a handler,
// and explicitly, with the same schemas through createValidator. It prints one JSON
// line per event on stdout:
//
//   {"type":"control", "name", "expect":"valid"|"invalid", "action", "valid", "errors", "payload"}
//       hand-made payloads checked at startup, proving the validator bites;
//   {"type":"conf", "action", "valid", "errors", "payload"}
//       the central system's answer to a call of ours (strict mode checks these too);
//   {"type":"ready", "transactionId"}
//       booted, both connectors reported, a transaction open on connector 1;
//   {"type":"call", "id", "action", "valid", "errors", "answer", "payload"}
//       a call received, with what we answered ("CallResult" or "CallError <code>");
//   {"type":"error", "message"}
//       something went wrong here; the process then exits 1.
//
// It stops when its stdin ends, once the calls it made in answer to commands (the
// triggered message, the StopTransaction after a RemoteStop) have their answers.

const { RPCClient, createValidator } = require('ocpp-rpc');

// The schemas strict mode uses (lib/standard-validators.js builds its ocpp1.6
// validator from this same file).
const schemas = require('ocpp-rpc/lib/schemas/ocpp1_6.json');
const validator = createValidator('ocpp1.6', schemas);

const [endpoint, identity] = process.argv.slice(2);
if (!endpoint || !identity) {
    console.error('usage: node charger.js ws://host:port chargePointId');
    process.exit(2);
}

const ID_TAG = '04A1B2C3D4';

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

// check validates payload against urn:<action>.<kind> ("req" or "conf").
function check(action, kind, payload) {
    try {
        validator.validate(`urn:${action}.${kind}`, payload);
        return { valid: true, errors: [] };
    } catch (err) {
        const found = (err.details && err.details.errors) || [];
        const errors = found.map(e => ({
            code: err.rpcErrorCode,
            path: e.instancePath,
            keyword: e.keyword,
            message: e.message,
            params: e.params,
        }));
        if (errors.length === 0) {
            errors.push({ code: err.rpcErrorCode || 'Error', message: err.message });
        }
        return { valid: false, errors };
    }
}

// Hand-made payloads, each breaking the schema one way (or, for the first, none).
const start = '2025-03-01T08:00:00Z';
const goodProfile = () => ({
    connectorId: 1,
    csChargingProfiles: {
        chargingProfileId: 100012,
        transactionId: 1,
        stackLevel: 1,
        chargingProfilePurpose: 'TxProfile',
        chargingProfileKind: 'Absolute',
        chargingSchedule: {
            startSchedule: start,
            chargingRateUnit: 'A',
            chargingSchedulePeriod: [{ startPeriod: 0, limit: 16, numberPhases: 3 }],
        },
    },
});
const controls = [
    { name: 'spec-conformant TxProfile', expect: 'valid', mutate: () => {} },
    { name: 'unit kW', expect: 'invalid', mutate: p => { p.csChargingProfiles.chargingSchedule.chargingRateUnit = 'kW'; } },
    { name: 'limit as a string', expect: 'invalid', mutate: p => { p.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit = '16'; } },
    { name: 'limit not a multiple of 0.1', expect: 'invalid', mutate: p => { p.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit = 16.05; } },
    { name: 'no chargingProfileKind', expect: 'invalid', mutate: p => { delete p.csChargingProfiles.chargingProfileKind; } },
    { name: 'purpose TxProfiles', expect: 'invalid', mutate: p => { p.csChargingProfiles.chargingProfilePurpose = 'TxProfiles'; } },
    { name: 'startSchedule without a zone', expect: 'invalid', mutate: p => { p.csChargingProfiles.chargingSchedule.startSchedule = '2025-03-01 08:00'; } },
    { name: 'unknown property', expect: 'invalid', mutate: p => { p.csChargingProfiles.chargingSchedule.maxPower = 7400; } },
    { name: 'numberPhases as a number string', expect: 'invalid', mutate: p => { p.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].numberPhases = '3'; } },
];
for (const c of controls) {
    const payload = goodProfile();
    c.mutate(payload);
    emit({ type: 'control', name: c.name, expect: c.expect, action: 'SetChargingProfile', ...check('SetChargingProfile', 'req', payload), payload });
}

const client = new RPCClient({
    endpoint,
    identity,
    protocols: ['ocpp1.6'],
    strictMode: true,
    reconnect: false,
    callTimeoutMs: 5000,
});

// Every received call, logged once its answer is sent (the outbound 'response' event),
// so the line says whether strict mode let it through.
const received = new Map(); // message id → {action, payload}
client.on('call', ({ outbound, payload }) => {
    if (outbound) return;
    const [, id, action, params] = payload;
    received.set(id, { action, params });
});
client.on('response', ({ outbound, payload }) => {
    if (!outbound) return;
    const [type, id] = payload;
    const call = received.get(id);
    if (!call) return;
    received.delete(id);
    const answer = type === 3 ? 'CallResult' : `CallError ${payload[2]}: ${payload[3]}`;
    emit({ type: 'call', id, action: call.action, ...check(call.action, 'req', call.params), answer, payload: call.params });
});

// What the composite schedule reports: the last profile set on each connector.
const profiles = new Map(); // connectorId → csChargingProfiles
let transactionId = 0;
const followUps = new Set();

// send makes a call and logs the central system's answer.
async function send(action, params) {
    let result;
    try {
        result = await client.call(action, params);
    } catch (err) {
        // Strict mode rejects an answer that fails the schema: report it as invalid.
        const found = (err.details && err.details.errors) || [];
        emit({
            type: 'conf', action, valid: false,
            errors: found.length ? found.map(e => ({ code: err.rpcErrorCode, path: e.instancePath, keyword: e.keyword, message: e.message }))
                : [{ code: err.rpcErrorCode || err.name, message: err.message }],
            payload: null,
        });
        throw err;
    }
    emit({ type: 'conf', action, ...check(action, 'conf', result), payload: result });
    return result;
}

// later runs f after the current answer has gone out, and keeps its promise so that
// stdin's end waits for it.
function later(f) {
    const p = new Promise(resolve => setImmediate(resolve)).then(f).catch(err => {
        emit({ type: 'error', message: `${err.name}: ${err.message}` });
    });
    followUps.add(p);
    p.finally(() => followUps.delete(p));
}

const now = () => new Date().toISOString();

client.handle('SetChargingProfile', ({ params }) => {
    profiles.set(params.connectorId, params.csChargingProfiles);
    return { status: 'Accepted' };
});
client.handle('ClearChargingProfile', ({ params }) => {
    if (params.connectorId !== undefined) profiles.delete(params.connectorId);
    return { status: 'Accepted' };
});
client.handle('GetCompositeSchedule', ({ params }) => {
    const p = profiles.get(params.connectorId);
    if (!p) return { status: 'Rejected' };
    const s = p.chargingSchedule;
    if (params.chargingRateUnit && params.chargingRateUnit !== s.chargingRateUnit) return { status: 'Rejected' };
    return {
        status: 'Accepted',
        connectorId: params.connectorId,
        scheduleStart: s.startSchedule,
        chargingSchedule: {
            duration: params.duration,
            startSchedule: s.startSchedule,
            chargingRateUnit: s.chargingRateUnit,
            chargingSchedulePeriod: s.chargingSchedulePeriod.map(q => ({ ...q })),
        },
    };
});
client.handle('RemoteStartTransaction', () => ({ status: 'Accepted' }));
client.handle('RemoteStopTransaction', ({ params }) => {
    if (params.transactionId !== transactionId) return { status: 'Rejected' };
    later(() => send('StopTransaction', {
        transactionId, idTag: ID_TAG, meterStop: 1800, timestamp: now(), reason: 'Remote',
    }));
    return { status: 'Accepted' };
});
client.handle('TriggerMessage', ({ params }) => {
    const connectorId = params.connectorId ?? 1;
    switch (params.requestedMessage) {
    case 'StatusNotification':
        later(() => send('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Charging', timestamp: now() }));
        break;
    case 'Heartbeat':
        later(() => send('Heartbeat', {}));
        break;
    case 'MeterValues':
        later(() => send('MeterValues', {
            connectorId, transactionId,
            meterValue: [{ timestamp: now(), sampledValue: [{ value: '1500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
        }));
        break;
    default:
        return { status: 'NotImplemented' };
    }
    return { status: 'Accepted' };
});

async function main() {
    await client.connect();
    await send('BootNotification', { chargePointVendor: 'ocpp-rpc', chargePointModel: 'interop', firmwareVersion: '2.2.1' });
    await send('Heartbeat', {});
    await send('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: now() });
    await send('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available', timestamp: now() });
    await send('Authorize', { idTag: ID_TAG });
    const started = await send('StartTransaction', { connectorId: 1, idTag: ID_TAG, meterStart: 1000, timestamp: now() });
    transactionId = started.transactionId;
    await send('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: now() });
    emit({ type: 'ready', transactionId });

    process.stdin.resume();
    await new Promise(resolve => process.stdin.on('end', resolve));
    while (followUps.size > 0) await Promise.allSettled([...followUps]);
    await client.close({ code: 1000, reason: 'done' });
}

main().then(() => process.exit(0), err => {
    emit({ type: 'error', message: `${err.name}: ${err.message}` });
    process.exit(1);
});
