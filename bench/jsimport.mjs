// jsimport FILE PASSFILE: import a key-export file into matrix-js-sdk 36's
// Rust crypto (Element's engine), in memory, as Element's "Import E2E room
// keys" does: open the file (Element does that outside the SDK, as here:
// PBKDF2-SHA-512, HMAC-SHA-256, AES-256-CTR), then
// CryptoApi.importRoomKeysAsJson.  No network: the client is never
// started.  Prints {"imported":N}; for bench/keys.sh.
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

for (const k of ["log", "info", "debug", "warn", "trace"])
	console[k] = (...a) => process.stderr.write(a.map(String).join(" ") + "\n");
const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
logger.setLevel("error");

const [file, passfile] = process.argv.slice(2);
const pass = readFileSync(passfile, "utf8").split("\n")[0];
const text = readFileSync(file, "utf8");
const B = "-----BEGIN MEGOLM SESSION DATA-----", E = "-----END MEGOLM SESSION DATA-----";
const body = Buffer.from(text.slice(text.indexOf(B) + B.length, text.indexOf(E)).replace(/\s+/g, ""), "base64");
const k = pbkdf2Sync(Buffer.from(pass, "utf8"), body.subarray(1, 17), body.readUInt32BE(33), 64, "sha512");
const mac = createHmac("sha256", k.subarray(32)).update(body.subarray(0, body.length - 32)).digest();
if (!timingSafeEqual(mac, body.subarray(body.length - 32))) throw new Error("bad passphrase");
const d = createDecipheriv("aes-256-ctr", k.subarray(0, 32), body.subarray(17, 33));
const json = Buffer.concat([d.update(body.subarray(37, body.length - 32)), d.final()]).toString("utf8");

const client = sdk.createClient({ baseUrl: "http://127.0.0.1:9", userId: "@bench:example.org",
	deviceId: "BENCHJS", accessToken: "unused" });
await client.initRustCrypto({ useIndexedDB: false });
let n = 0;
await client.getCrypto().importRoomKeysAsJson(json, { progressCallback: (p) => { n = p.successes; } });
process.stdout.write(JSON.stringify({ imported: n }) + "\n");
process.exit(0);
