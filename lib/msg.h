/*
 * msg: building the contents of the events mx-send sends (spec:
 * Client-Server API, "m.room.message msgtypes", "Rich replies",
 * "Threading", "Event replacements", "Event annotations"), their size as
 * the server will count it, and transaction ids.  Pure: no I/O but reading
 * the local file given to mx_msg_mime and mx_msg_probe.
 *
 * json_t results are new references owned by the caller; json_t arguments
 * are borrowed unless said otherwise.  char * results are the caller's.
 */
#ifndef MX_MSG_H
#define MX_MSG_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

/* Synapse refuses a PDU whose canonical JSON exceeds this many bytes. */
#define MX_MSG_PDU_LIMIT 65536
/* Room left for what the server adds around the content (auth and prev
 * event ids, hashes, signatures, depth, timestamps). */
#define MX_MSG_ENVELOPE 2048

enum mx_msg_type {
	MX_MSG_TEXT,   /* m.text */
	MX_MSG_NOTICE, /* m.notice */
	MX_MSG_EMOTE,  /* m.emote */
};

enum mx_msg_fmt {
	MX_FMT_PLAIN,	 /* body only */
	MX_FMT_MARKDOWN, /* CommonMark -> formatted_body; body as typed */
	MX_FMT_HTML,	 /* text is HTML; body is its plain rendering */
	MX_FMT_CODE,	 /* a code block, lang optional */
};

/*
 * The content of an m.room.message carrying text.  lang is the language
 * of MX_FMT_CODE (may be NULL).  Markdown is rendered by cmark with raw
 * HTML left out (cmark's safe default); a single paragraph loses its
 * <p>; Markdown without any markup is sent as plain text.
 */
json_t *mx_msg_text(const char *text, enum mx_msg_type type,
    enum mx_msg_fmt fmt, const char *lang);

/* CommonMark to HTML (safe: raw HTML omitted), trailing newline removed. */
char *mx_msg_markdown(const char *md);
/* HTML-escape &, <, >, " and '. */
char *mx_msg_escape(const char *s);
/* A plain-text rendering of HTML: tags dropped, <br> and block ends as
 * newlines, the common entities decoded, trailing newlines trimmed. */
char *mx_msg_html_text(const char *html);

/* Make content (modified in place) a rich reply to event_id. */
void mx_msg_reply(json_t *content, const char *event_id);
/*
 * Make content a reply in the thread of root.  reply_to: the event it
 * answers explicitly (a real reply, is_falling_back false), or NULL; then
 * latest (the thread's latest event, or root) gets the fallback reply.
 */
void mx_msg_thread(json_t *content, const char *root, const char *reply_to,
    const char *latest);
/* The content replacing event_id with new (which is stolen): "* " fallback
 * body (and formatted_body), m.new_content, m.relates_to m.replace. */
json_t *mx_msg_edit(json_t *new_content, const char *event_id);
/* The content of an m.reaction to event_id with key. */
json_t *mx_msg_reaction(const char *event_id, const char *key);

/* Width and height of a PNG, GIF or JPEG from its first n bytes; 0 and
 * both set, -1 when not found there. */
int mx_msg_image_size(const unsigned char *p, size_t n, long *w, long *h);
/* m.image, m.audio, m.video or m.file for a MIME type. */
const char *mx_msg_file_msgtype(const char *mime);
/* The MIME type of a file by libmagic ("application/octet-stream" when
 * unknown).  Caller frees. */
char *mx_msg_mime(const char *path);
/* The MIME type of the file at path (caller frees) and, for a PNG, GIF or
 * JPEG image, its width and height from the first 64 KiB (else -1). */
char *mx_msg_probe(const char *path, long *w, long *h);
/*
 * The content of a file message: body and filename the base name of path,
 * url mxc, info {size, mimetype, w, h when known (w, h < 0: unknown)}.
 */
json_t *mx_msg_file(const char *path, const char *mxc, const char *mime,
    long long size, long w, long h);

/* The size in bytes of the event of this type and content in room_id
 * sent by sender, as canonical JSON, plus MX_MSG_ENVELOPE; 0 when it
 * cannot be encoded (a string that is not UTF-8). */
size_t mx_msg_event_size(const char *room_id, const char *sender,
    const char *type, const json_t *content);

/*
 * Transaction ids.  mx_msg_txn_new: a fresh id, "mx" + 16 random hex
 * digits fixed per process + "." + a counter.  mx_msg_txn_key: the
 * store key naming a send, hex SHA-256 of room_id, type and the content
 * as canonical JSON, NUL-separated; NULL when content cannot be encoded.
 */
char *mx_msg_txn_new(void);
char *
mx_msg_txn_key(const char *room_id, const char *type, const json_t *content);

#endif
