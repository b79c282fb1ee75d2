// jspeer: a scripted Matrix client on matrix-js-sdk with its Rust crypto
// (the engine inside Element), for mx's interop tests.  Configured from the
// environment (PEER_HS, PEER_USER, PEER_PASSWORD, PEER_DEVICE_NAME,
// PEER_AUTOJOIN); commands arrive as JSON lines on stdin, answers and
// events leave as JSON lines on stdout (see t/peer/peer.sh).  Everything
// else, the SDK's logging included, goes to stderr.
import { createHash, createCipheriv, createDecipheriv, createHmac, createPrivateKey,
	createPublicKey, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { createInterface } from "node:readline";

// Keep stdout for the protocol: the SDK and the wasm log through console.
for (const k of ["log", "info", "debug", "warn", "trace"])
	console[k] = (...a) => process.stderr.write(a.map(String).join(" ") + "\n");

const sdk = await import("matrix-js-sdk");
const { encodeRecoveryKey, decodeRecoveryKey } = await import("matrix-js-sdk/lib/crypto-api/index.js");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
logger.setLevel(process.env.PEER_DEBUG ? "debug" : "error");

const env = (k) => {
	const v = process.env[k];
	if (!v) throw new Error(`${k} is not set`);
	return v;
};
const hs = env("PEER_HS").replace(/\/+$/, "");
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

// Unpadded base64, and its URL-safe form (JWK).
const b64 = (b) => Buffer.from(b).toString("base64").replace(/=+$/, "");
const b64url = (b) => b64(b).replace(/\+/g, "-").replace(/\//g, "_");
const unb64 = (s) => Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64");

// ---- log in, start, wait for the first sync ----
const login = await sdk.createClient({ baseUrl: hs }).loginRequest({
	type: "m.login.password",
	identifier: { type: "m.id.user", user: env("PEER_USER") },
	password: env("PEER_PASSWORD"),
	initial_device_display_name: process.env.PEER_DEVICE_NAME || "jspeer",
});
// Secret-storage keys this peer made or was given, by key ID: the SDK
// asks for them through its callbacks.
const ssssKeys = {};
const client = sdk.createClient({
	baseUrl: hs,
	userId: login.user_id,
	deviceId: login.device_id,
	accessToken: login.access_token,
	cryptoCallbacks: {
		getSecretStorageKey: async ({ keys }) => {
			const id = Object.keys(keys).find((k) => ssssKeys[k]);
			return id ? [id, ssssKeys[id]] : null;
		},
		cacheSecretStorageKey: (id, _info, key) => { ssssKeys[id] = key; },
	},
});
await client.initRustCrypto({ useIndexedDB: false });
const crypto = client.getCrypto();

let syncs = 0;
const syncWaiters = [];
client.on(sdk.ClientEvent.Sync, (state) => {
	if (state !== "PREPARED" && state !== "SYNCING") return;
	syncs++;
	while (syncWaiters.length) syncWaiters.shift()();
});
const nextSync = () => new Promise((r) => syncWaiters.push(r));

// ---- events ----
async function fileSha256(content) {
	const f = content.file;
	const m = /^mxc:\/\/([^/]+)\/(.+)$/.exec(f.url || "");
	if (!m) throw new Error("bad mxc url");
	const r = await fetch(`${hs}/_matrix/client/v1/media/download/${m[1]}/${m[2]}`,
		{ headers: { Authorization: `Bearer ${login.access_token}` } });
	if (!r.ok) throw new Error(`download: HTTP ${r.status}`);
	const ct = Buffer.from(await r.arrayBuffer());
	if (b64(createHash("sha256").update(ct).digest()) !== f.hashes.sha256.replace(/=+$/, ""))
		throw new Error("hash mismatch");
	const d = createDecipheriv("aes-256-ctr", unb64(f.key.k), unb64(f.iv));
	const pt = Buffer.concat([d.update(ct), d.final()]);
	return createHash("sha256").update(pt).digest("hex");
}

async function emitMessage(ev) {
	const wire = ev.getWireType();
	if (wire !== "m.room.message" && wire !== "m.room.encrypted") return;
	if (ev.isState()) return;
	const line = {
		event: "message",
		room_id: ev.getRoomId(),
		event_id: ev.getId(),
		sender: ev.getSender(),
		type: ev.getType(),
		content: ev.isDecryptionFailure() ? null : ev.getContent(),
		encrypted: ev.isEncrypted(),
		decrypted: ev.isEncrypted() && !ev.isDecryptionFailure(),
		failure: ev.decryptionFailureReason ?? null,
		sender_device: ev.getWireContent()?.device_id ?? null,
	};
	if (ev.isEncrypted() && !ev.isDecryptionFailure()) {
		try {
			const info = await crypto.getEncryptionInfoForEvent(ev);
			if (info) line.shield = { colour: info.shieldColour, reason: info.shieldReason,
				reason_name: sdk.Crypto.EventShieldReason[info.shieldReason] ?? null };
		} catch (e) { line.shield_error = String(e); }
	}
	if (line.content?.file?.url) {
		try { line.file_sha256 = await fileSha256(line.content); }
		catch (e) { line.file_error = String(e.message || e); }
	}
	out(line);
}

client.on(sdk.RoomEvent.Timeline, (ev) => {
	if (ev.getType() === "m.room.member") {
		out({ event: "member", room_id: ev.getRoomId(), user: ev.getStateKey(),
			membership: ev.getContent().membership });
		if (ev.getStateKey() === login.user_id && ev.getContent().membership === "invite") {
			out({ event: "invite", room_id: ev.getRoomId() });
			if (process.env.PEER_AUTOJOIN === "1") client.joinRoom(ev.getRoomId()).catch(() => {});
		}
		return;
	}
	// Encrypted events are reported once decryption was tried (below).
	if (!ev.isEncrypted() && !ev.shouldAttemptDecryption() && !ev.isBeingDecrypted())
		emitMessage(ev);
});
// Every decryption attempt, the first and each retry (a key that arrives
// later makes the SDK try again).
client.on(sdk.MatrixEventEvent.Decrypted, (ev) => { emitMessage(ev); });
client.on(sdk.RoomEvent.MyMembership, (room, membership) => {
	if (membership === "invite") {
		out({ event: "invite", room_id: room.roomId });
		if (process.env.PEER_AUTOJOIN === "1") client.joinRoom(room.roomId).catch(() => {});
	}
});

// ---- verification (SAS) ----
// Requests by transaction id; each reports its SAS, its end and its cancel
// as events: verification_request, sas, verified, verification_cancelled.
const requests = new Map();
function trackRequest(req) {
	const txn = () => req.transactionId;
	let hooked = false, ended = false;
	const hook = (verifier) => {
		if (hooked) return;
		hooked = true;
		verifier.on(sdk.Crypto.VerifierEvent.ShowSas, (sas) => {
			req._sas = sas;
			out({ event: "sas", transaction_id: txn(),
				emoji: (sas.sas.emoji || []).map(([emoji, name]) => ({ emoji, name })),
				decimal: sas.sas.decimal || null });
		});
		verifier.verify().then(
			() => out({ event: "verified", transaction_id: txn(),
				other_user: req.otherUserId, other_device: req.otherDeviceId }),
			(e) => out({ event: "verify_failed", transaction_id: txn(), error: String(e?.message || e) }));
	};
	req.on(sdk.Crypto.VerificationRequestEvent.Change, () => {
		if (req.transactionId) requests.set(req.transactionId, req);
		if (req.verifier) hook(req.verifier);
		if (req.phase === sdk.Crypto.VerificationPhase.Cancelled && !ended) {
			ended = true;
			out({ event: "verification_cancelled", transaction_id: txn(),
				code: req.cancellationCode });
		}
	});
	if (req.transactionId) requests.set(req.transactionId, req);
	return req;
}
client.on(sdk.Crypto.CryptoEvent.VerificationRequestReceived, (req) => {
	trackRequest(req);
	out({ event: "verification_request", transaction_id: req.transactionId,
		other_user: req.otherUserId, other_device: req.otherDeviceId,
		room_id: req.roomId ?? null });
});
const request = (c) => {
	const r = requests.get(c.transaction_id);
	if (!r) throw new Error(`no verification ${c.transaction_id}`);
	return r;
};

// To-device events as the SDK hands them on (after its crypto saw them),
// for tests of secret sharing: a secret's value never leaves the peer.
client.on(sdk.ClientEvent.ToDeviceEvent, (ev) => {
	const content = { ...ev.getContent() };
	if ("secret" in content) content.secret = "(redacted)";
	out({ event: "to_device", type: ev.getType(), sender: ev.getSender(),
		encrypted: ev.isEncrypted(), content });
});

client.startClient({ initialSyncLimit: 20 });
await nextSync();
const keys = await crypto.getOwnDeviceKeys();
out({ ready: true, user_id: login.user_id, device_id: login.device_id,
	curve25519: keys.curve25519, ed25519: keys.ed25519 });

// ---- commands ----
// The room once the client knows it (and, for an encrypted one, its
// encryption state), after a join.
async function knownRoom(roomId) {
	for (let i = 0; i < 600; i++) {
		const room = client.getRoom(roomId);
		if (room && room.getMyMembership() === "join") return room;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`room ${roomId} never showed up`);
}

async function encryptFile(path) {
	const data = readFileSync(path);
	const key = randomBytes(32);
	const iv = Buffer.concat([randomBytes(8), Buffer.alloc(8)]);
	const c = createCipheriv("aes-256-ctr", key, iv);
	const ct = Buffer.concat([c.update(data), c.final()]);
	const up = await client.uploadContent(ct, { type: "application/octet-stream", includeFilename: false });
	return {
		size: data.length,
		file: {
			v: "v2", url: up.content_uri, iv: b64(iv),
			key: { kty: "oct", key_ops: ["encrypt", "decrypt"], alg: "A256CTR", k: b64url(key), ext: true },
			hashes: { sha256: b64(createHash("sha256").update(ct).digest()) },
		},
	};
}

// Element's room-key export file (spec: Client-Server API, "Key exports"):
// the SDK's CryptoApi takes and gives the JSON list only, so the armour,
// PBKDF2-SHA-512, AES-256-CTR and HMAC-SHA-256 are done here, as Element
// itself does outside the SDK.
const ARMOUR = ["-----BEGIN MEGOLM SESSION DATA-----", "-----END MEGOLM SESSION DATA-----"];
function exportKeys(salt, pass, rounds) {
	const k = pbkdf2Sync(Buffer.from(pass, "utf8"), salt, rounds, 64, "sha512");
	return { aes: k.subarray(0, 32), mac: k.subarray(32) };
}
function sealExport(json, pass, rounds) {
	const salt = randomBytes(16), iv = randomBytes(16);
	iv[8] &= 0x7f;
	const k = exportKeys(salt, pass, rounds);
	const c = createCipheriv("aes-256-ctr", k.aes, iv);
	const head = Buffer.alloc(37);
	head[0] = 1;
	salt.copy(head, 1);
	iv.copy(head, 17);
	head.writeUInt32BE(rounds, 33);
	const body = Buffer.concat([head, c.update(Buffer.from(json, "utf8")), c.final()]);
	const all = Buffer.concat([body, createHmac("sha256", k.mac).update(body).digest()]);
	const lines = all.toString("base64").match(/.{1,128}/g);
	return [ARMOUR[0], ...lines, ARMOUR[1], ""].join("\n");
}
function openExport(text, pass) {
	const a = text.indexOf(ARMOUR[0]), b = text.indexOf(ARMOUR[1]);
	if (a < 0 || b < a) throw new Error("not a key export file");
	const body = Buffer.from(text.slice(a + ARMOUR[0].length, b).replace(/\s+/g, ""), "base64");
	if (body.length < 69 || body[0] !== 1) throw new Error("not a key export file");
	const k = exportKeys(body.subarray(1, 17), pass, body.readUInt32BE(33));
	const mac = createHmac("sha256", k.mac).update(body.subarray(0, body.length - 32)).digest();
	if (!timingSafeEqual(mac, body.subarray(body.length - 32)))
		throw new Error("bad passphrase or damaged file");
	const d = createDecipheriv("aes-256-ctr", k.aes, body.subarray(17, 33));
	return Buffer.concat([d.update(body.subarray(37, body.length - 32)), d.final()]).toString("utf8");
}

const commands = {
	async export_keys(c) {
		const json = await crypto.exportRoomKeysAsJson();
		writeFileSync(c.path, sealExport(json, c.passphrase, c.rounds || 500000), { mode: 0o600 });
		return { exported: JSON.parse(json).length };
	},
	async import_keys(c) {
		const json = openExport(readFileSync(c.path, "utf8"), c.passphrase);
		let n = 0;
		await crypto.importRoomKeysAsJson(json, { progressCallback: (p) => { n = p.total; } });
		return { imported: n };
	},
	async create_room(c) {
		const initial_state = [];
		if (c.encrypted) {
			const content = { algorithm: "m.megolm.v1.aes-sha2" };
			if (c.rotation_period_msgs) content.rotation_period_msgs = c.rotation_period_msgs;
			initial_state.push({ type: "m.room.encryption", state_key: "", content });
		}
		if (c.history_visibility)
			initial_state.push({ type: "m.room.history_visibility", state_key: "",
				content: { history_visibility: c.history_visibility } });
		const r = await client.createRoom({ invite: c.invite || [], initial_state });
		await knownRoom(r.room_id);
		return { room_id: r.room_id };
	},
	async join(c) {
		const room = await client.joinRoom(c.room);
		await knownRoom(room.roomId);
		return { room_id: room.roomId };
	},
	async leave(c) { await client.leave(c.room); return {}; },
	async invite(c) { await client.invite(c.room, c.user); return {}; },
	async send(c) {
		await knownRoom(c.room);
		const content = c.content || { msgtype: "m.text", body: c.text };
		const r = await client.sendEvent(c.room, c.type || "m.room.message", content);
		return { event_id: r.event_id };
	},
	async send_file(c) {
		await knownRoom(c.room);
		const f = await encryptFile(c.path);
		const name = basename(c.path);
		const r = await client.sendEvent(c.room, "m.room.message", {
			msgtype: "m.file", body: name, filename: name,
			info: { size: f.size, mimetype: c.mimetype || "application/octet-stream" },
			file: f.file,
		});
		return { event_id: r.event_id };
	},
	async devices(c) {
		const map = await crypto.getUserDeviceInfo([c.user], true);
		const devs = [];
		for (const [id] of map.get(c.user) || new Map()) {
			const st = await crypto.getDeviceVerificationStatus(c.user, id);
			devs.push({ device_id: id, verified: !!st?.isVerified() });
		}
		return { devices: devs };
	},
	async verify_device(c) {
		await crypto.getUserDeviceInfo([c.user], true);
		await crypto.setDeviceVerified(c.user, c.device, true);
		return {};
	},
	// Cross-signing (spec: "Cross-signing"): set up, or with reset a new
	// identity replacing the old one, the password answering the
	// user-interactive auth of /keys/device_signing/upload.
	async cross_signing(c) {
		await crypto.bootstrapCrossSigning({
			setupNewCrossSigning: !!c.reset,
			authUploadDeviceSigningKeys: async (makeRequest) => {
				await makeRequest({ type: "m.login.password",
					identifier: { type: "m.id.user", user: login.user_id },
					password: env("PEER_PASSWORD") });
			},
		});
		return { master_key: await crypto.getCrossSigningKeyId() };
	},
	async verify_request(c) {
		await crypto.getUserDeviceInfo([c.user], true);
		const req = trackRequest(await crypto.requestDeviceVerification(c.user, c.device));
		return { transaction_id: req.transactionId };
	},
	async verify_accept(c) { await request(c).accept(); return {}; },
	// In-room verification of c.user in their DM c.room (Element's
	// "Verify user"): the request's event ID is the transaction ID.
	async verify_request_dm(c) {
		await knownRoom(c.room);
		await crypto.getUserDeviceInfo([c.user], true);
		const req = trackRequest(await crypto.requestVerificationDM(c.user, c.room));
		return { transaction_id: req.transactionId };
	},
	async verify_cancel(c) { await request(c).cancel(); return {}; },
	// Record c.room as a DM with c.user in m.direct (spec: "Direct
	// Messaging"), keeping what is there.
	async set_dm(c) {
		const ev = client.getAccountData("m.direct");
		const d = { ...(ev ? ev.getContent() : {}) };
		d[c.user] = [...(d[c.user] || []), c.room];
		await client.setAccountData("m.direct", d);
		return {};
	},
	async verify_start(c) {
		const r = request(c);
		for (let i = 0; i < 600 && r.phase < sdk.Crypto.VerificationPhase.Ready; i++)
			await new Promise((res) => setTimeout(res, 50));
		await r.startVerification("m.sas.v1");
		return {};
	},
	async verify_confirm(c) {
		const r = request(c);
		if (!r._sas) throw new Error("no SAS shown yet");
		if (c.match) await r._sas.confirm(); else r._sas.mismatch();
		return {};
	},
	async bootstrap_cross_signing() {
		await commands.cross_signing({ reset: true });
		const st = await crypto.getCrossSigningStatus();
		return { ready: await crypto.isCrossSigningReady(),
			private_keys: st.privateKeysCachedLocally };
	},
	async cross_sign_device(c) {
		await crypto.getUserDeviceInfo([login.user_id], true);
		await crypto.crossSignDevice(c.device);
		return {};
	},
	async device_status(c) {
		if (c.refresh) await crypto.getUserDeviceInfo([c.user], true);
		const st = await crypto.getDeviceVerificationStatus(c.user, c.device);
		return { verified: !!st?.isVerified(), locally: !!st?.localVerified,
			cross_signing: !!st?.crossSigningVerified };
	},
	// Which cross-signing private keys and backup key this device holds
	// (its own cache: what secret sharing or secret storage gave it).
	async cross_signing_status() {
		const st = await crypto.getCrossSigningStatus();
		return { ...st.privateKeysCachedLocally,
			public_keys: st.publicKeysOnDevice,
			backup_key: !!(await crypto.getSessionBackupPrivateKey()) };
	},
	async wait_sync() {
		const n = syncs;
		while (syncs <= n) await nextSync();
		return {};
	},
	// Cross-signing, secret storage (its key from c.passphrase) and a new
	// key backup whose key secret storage keeps, as Element's "set up
	// recovery" does; the backed-up keys follow as the SDK uploads them.
	async bootstrap_backup(c) {
		const gen = await crypto.createRecoveryKeyFromPassphrase(c.passphrase);
		await crypto.bootstrapCrossSigning({
			authUploadDeviceSigningKeys: async (makeRequest) => {
				await makeRequest({ type: "m.login.password",
					identifier: { type: "m.id.user", user: login.user_id },
					password: env("PEER_PASSWORD") });
			},
		});
		await crypto.bootstrapSecretStorage({
			createSecretStorageKey: async () => gen,
			setupNewSecretStorage: true, setupNewKeyBackup: true,
		});
		const check = await crypto.checkKeyBackupAndEnable();
		const bk = await crypto.getSessionBackupPrivateKey();
		return { recovery_key: gen.encodedPrivateKey,
			backup_key: encodeRecoveryKey(bk),
			version: check?.backupInfo?.version ?? null };
	},
	// Wait until the server's backup holds c.count keys.
	async backup_wait(c) {
		for (let i = 0; i < 600; i++) {
			const r = await fetch(`${hs}/_matrix/client/v3/room_keys/version`,
				{ headers: { Authorization: `Bearer ${login.access_token}` } });
			const v = await r.json();
			if (r.ok && v.count >= c.count) return { count: v.count, version: v.version };
			await new Promise((res) => setTimeout(res, 100));
		}
		throw new Error("the backup never held that many keys");
	},
	// Restore the server's current backup with its key (c.backup_key, a
	// recovery key's text), as Element does for a backup key it is given.
	async backup_restore(c) {
		const info = await crypto.getKeyBackupInfo();
		if (!info) throw new Error("no key backup");
		await crypto.storeSessionBackupPrivateKey(decodeRecoveryKey(c.backup_key), info.version);
		const r = await crypto.restoreKeyBackup();
		return { total: r.total, imported: r.imported, version: info.version };
	},
	// Restore the current backup with the key secret storage holds for it,
	// opened with secret storage's recovery key (c.recovery_key).
	async backup_restore_ssss(c) {
		const id = await client.secretStorage.getDefaultKeyId();
		ssssKeys[id] = decodeRecoveryKey(c.recovery_key);
		// The SDK remembers the backup it last saw: look again.
		await crypto.checkKeyBackupAndEnable();
		await crypto.loadSessionBackupPrivateKeyFromSecretStorage();
		const r = await crypto.restoreKeyBackup();
		const info = await crypto.getKeyBackupInfo();
		return { total: r.total, imported: r.imported, version: info?.version ?? null };
	},
	// Secret storage alone (its key from c.passphrase), without
	// cross-signing or a backup.
	async bootstrap_ssss(c) {
		const gen = await crypto.createRecoveryKeyFromPassphrase(c.passphrase);
		await crypto.bootstrapSecretStorage({
			createSecretStorageKey: async () => gen,
			setupNewSecretStorage: true,
		});
		return { recovery_key: gen.encodedPrivateKey };
	},
	// Store c.value (a string) as the secret c.name in secret storage,
	// encrypted with its default key (c.recovery_key), as any client may.
	async ssss_store(c) {
		const id = await client.secretStorage.getDefaultKeyId();
		ssssKeys[id] = decodeRecoveryKey(c.recovery_key);
		await client.secretStorage.store(c.name, c.value);
		return {};
	},
	// Open secret storage with its key, the recovery key c.recovery_key or
	// the key of the passphrase c.passphrase (PBKDF2-SHA-512 with the
	// key description's salt and rounds, spec: "Deriving keys from
	// passphrases"), as Element's "verify with your Security Key" does;
	// then take the cross-signing keys from it (bootstrapCrossSigning
	// reads them from secret storage when this device holds none) and
	// say what the SDK makes of them.  master_in_ssss is the public key
	// of the master seed found there, computed here.
	async ssss_cross_signing(c) {
		const found = await client.secretStorage.getKey();
		if (!found) throw new Error("no secret storage");
		const [id, info] = found;
		const key = c.recovery_key ? decodeRecoveryKey(c.recovery_key)
			: new Uint8Array(pbkdf2Sync(Buffer.from(c.passphrase, "utf8"),
				Buffer.from(info.passphrase.salt, "utf8"),
				info.passphrase.iterations, 32, "sha512"));
		const key_ok = await client.secretStorage.checkKey(key, info);
		if (!key_ok) return { key_ok };
		ssssKeys[id] = key;
		const seed = unb64(await client.secretStorage.get("m.cross_signing.master"));
		// Ed25519 from a 32-byte seed: its PKCS#8 form is a fixed
		// 16-byte header then the seed (RFC 8410).
		const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
		const jwk = createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }))
			.export({ format: "jwk" });
		await crypto.getUserDeviceInfo([login.user_id], true);
		await crypto.bootstrapCrossSigning({});
		const st = await crypto.getCrossSigningStatus();
		return { key_ok, key_id: id,
			master_in_ssss: b64(unb64(jwk.x)),
			master_key: await crypto.getCrossSigningKeyId(),
			private_keys: st.privateKeysCachedLocally,
			cross_signing_ready: await crypto.isCrossSigningReady(),
			secret_storage_ready: await crypto.isSecretStorageReady() };
	},
	async quit() { return {}; },
};

const rl = createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on("line", (text) => {
	queue = queue.then(async () => {
		let c;
		try { c = JSON.parse(text); } catch { return; }
		try {
			const fn = commands[c.cmd];
			if (!fn) throw new Error(`unknown command ${c.cmd}`);
			out({ id: c.id, ok: true, ...(await fn(c)) });
		} catch (e) {
			out({ id: c.id, ok: false, error: String(e?.message || e) });
		}
		if (c.cmd === "quit") {
			client.stopClient();
			process.exit(0);
		}
	});
});
rl.on("close", () => { queue.then(() => { client.stopClient(); process.exit(0); }); });
