/*
 * Unit tests of lib/msg: contents, relations, HTML text, image headers,
 * sizes and transaction ids.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "msg.h"
#include "tap.h"

/* content as compact JSON with sorted keys compared to want; takes j. */
static void
is_json(json_t *j, const char *want, const char *name)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	is_str(s, want, name);
	free(s);
	json_decref(j);
}

static void
is_own(char *got, const char *want, const char *name)
{
	is_str(got, want, name);
	free(got);
}

static void
test_text(void)
{
	is_json(mx_msg_text("hi", MX_MSG_TEXT, MX_FMT_PLAIN, NULL),
	    "{\"body\":\"hi\",\"msgtype\":\"m.text\"}", "plain text");
	is_json(mx_msg_text("hi", MX_MSG_NOTICE, MX_FMT_PLAIN, NULL),
	    "{\"body\":\"hi\",\"msgtype\":\"m.notice\"}", "notice");
	is_json(mx_msg_text("waves", MX_MSG_EMOTE, MX_FMT_PLAIN, NULL),
	    "{\"body\":\"waves\",\"msgtype\":\"m.emote\"}", "emote");
	is_json(mx_msg_text("a *b*", MX_MSG_TEXT, MX_FMT_MARKDOWN, NULL),
	    "{\"body\":\"a *b*\",\"format\":\"org.matrix.custom.html\","
	    "\"formatted_body\":\"a <em>b</em>\",\"msgtype\":\"m.text\"}",
	    "markdown, one paragraph unwrapped");
	is_json(mx_msg_text("a & b", MX_MSG_TEXT, MX_FMT_MARKDOWN, NULL),
	    "{\"body\":\"a & b\",\"msgtype\":\"m.text\"}",
	    "markdown without markup is plain");
	is_own(mx_msg_markdown("x\n\ny"), "<p>x</p>\n<p>y</p>",
	    "two paragraphs");
	is_own(mx_msg_markdown("<script>x</script>"),
	    "<!-- raw HTML omitted -->", "raw HTML left out");
	is_own(mx_msg_markdown("[a](javascript:alert(1))"),
	    "<p><a href=\"\">a</a></p>", "unsafe link dropped");
	is_json(mx_msg_text("a<b", MX_MSG_TEXT, MX_FMT_CODE, "c++"),
	    "{\"body\":\"a<b\",\"format\":\"org.matrix.custom.html\","
	    "\"formatted_body\":\"<pre><code class=\\\"language-c++\\\">a&lt;b"
	    "</code></pre>\",\"msgtype\":\"m.text\"}", "code with language");
	is_json(mx_msg_text("x", MX_MSG_TEXT, MX_FMT_CODE, NULL),
	    "{\"body\":\"x\",\"format\":\"org.matrix.custom.html\","
	    "\"formatted_body\":\"<pre><code>x</code></pre>\","
	    "\"msgtype\":\"m.text\"}", "code without language");
	is_own(mx_msg_escape("<a href=\"x\">'&'</a>"),
	    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;", "escape");
}

static void
test_html_text(void)
{
	is_own(mx_msg_html_text("<p>a &amp; <b>b</b></p><p>c</p>"),
	    "a & b\nc", "paragraphs");
	is_own(mx_msg_html_text("x<br>y<br/>z<br />"), "x\ny\nz", "br");
	is_own(mx_msg_html_text("<ul><li>1</li><li>2</li></ul>"), "1\n2",
	    "list items");
	is_own(mx_msg_html_text("&lt;tag&gt; &quot;q&quot; &#39;s&#39; &x;"),
	    "<tag> \"q\" 's' &x;", "entities");
	is_own(mx_msg_html_text("a < b"), "a < b", "a lone <");
	is_own(mx_msg_html_text("<bogus>t</bogus>"), "t", "unknown tags");
}

static void
test_relations(void)
{
	json_t *c;

	c = mx_msg_text("r", MX_MSG_TEXT, MX_FMT_PLAIN, NULL);
	mx_msg_reply(c, "$e");
	is_json(c, "{\"body\":\"r\",\"m.relates_to\":{\"m.in_reply_to\":"
	    "{\"event_id\":\"$e\"}},\"msgtype\":\"m.text\"}", "reply");
	c = mx_msg_text("t", MX_MSG_TEXT, MX_FMT_PLAIN, NULL);
	mx_msg_thread(c, "$root", NULL, "$last");
	is_json(c, "{\"body\":\"t\",\"m.relates_to\":{\"event_id\":\"$root\","
	    "\"is_falling_back\":true,\"m.in_reply_to\":{\"event_id\":"
	    "\"$last\"},\"rel_type\":\"m.thread\"},\"msgtype\":\"m.text\"}",
	    "thread falling back to the latest");
	c = mx_msg_text("t", MX_MSG_TEXT, MX_FMT_PLAIN, NULL);
	mx_msg_thread(c, "$root", "$r", "$last");
	is_json(c, "{\"body\":\"t\",\"m.relates_to\":{\"event_id\":\"$root\","
	    "\"is_falling_back\":false,\"m.in_reply_to\":{\"event_id\":"
	    "\"$r\"},\"rel_type\":\"m.thread\"},\"msgtype\":\"m.text\"}",
	    "thread with a real reply");
	c = mx_msg_edit(mx_msg_text("*n*", MX_MSG_NOTICE, MX_FMT_MARKDOWN,
	    NULL), "$old");
	is_json(c, "{\"body\":\"* *n*\",\"format\":\"org.matrix.custom.html\","
	    "\"formatted_body\":\"* <em>n</em>\",\"m.new_content\":{\"body\":"
	    "\"*n*\",\"format\":\"org.matrix.custom.html\",\"formatted_body\":"
	    "\"<em>n</em>\",\"msgtype\":\"m.notice\"},\"m.relates_to\":{"
	    "\"event_id\":\"$old\",\"rel_type\":\"m.replace\"},"
	    "\"msgtype\":\"m.notice\"}", "edit");
	is_json(mx_msg_reaction("$e", "\xf0\x9f\x91\x8d"),
	    "{\"m.relates_to\":{\"event_id\":\"$e\",\"key\":"
	    "\"\xf0\x9f\x91\x8d\",\"rel_type\":\"m.annotation\"}}", "reaction");
}

static void
test_images(void)
{
	static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
	    "\0\0\x01\x02\0\0\0\x07\x08\x02\0\0\0";
	static const unsigned char gif[] = "GIF87a\x20\x03\x58\x02";
	/* SOI, APP0 of 16 bytes, DQT of 4, SOF2 (progressive) 600x800. */
	static const unsigned char jpg[] = "\xff\xd8\xff\xe0\x00\x10JFIF\0"
	    "\x01\x01\0\0\x01\0\x01\0\0\xff\xdb\x00\x04\0\0"
	    "\xff\xc2\x00\x11\x08\x03\x20\x02\x58\x03\x01\x22\0";
	long w = -1, h = -1;

	ok(mx_msg_image_size(png, sizeof(png) - 1, &w, &h) == 0 &&
	    w == 258 && h == 7, "PNG size (%ld x %ld)", w, h);
	ok(mx_msg_image_size(gif, sizeof(gif) - 1, &w, &h) == 0 &&
	    w == 800 && h == 600, "GIF size (%ld x %ld)", w, h);
	ok(mx_msg_image_size(jpg, sizeof(jpg) - 1, &w, &h) == 0 &&
	    w == 600 && h == 800, "JPEG size past APP0 and DQT (%ld x %ld)",
	    w, h);
	ok(mx_msg_image_size(jpg, 20, &w, &h) == -1, "truncated JPEG");
	ok(mx_msg_image_size(png, 20, &w, &h) == -1, "truncated PNG");
	ok(mx_msg_image_size((const unsigned char *)"hello", 5, &w, &h) == -1,
	    "not an image");
	is_str(mx_msg_file_msgtype("image/webp"), "m.image", "image/*");
	is_str(mx_msg_file_msgtype("audio/ogg"), "m.audio", "audio/*");
	is_str(mx_msg_file_msgtype("video/mp4"), "m.video", "video/*");
	is_str(mx_msg_file_msgtype("text/plain"), "m.file", "others");
	is_json(mx_msg_file("/a/b/c.png", "mxc://hs/x", "image/png", 10, 3, 4),
	    "{\"body\":\"c.png\",\"filename\":\"c.png\",\"info\":{\"h\":4,"
	    "\"mimetype\":\"image/png\",\"size\":10,\"w\":3},\"msgtype\":"
	    "\"m.image\",\"url\":\"mxc://hs/x\"}", "file content");
	is_json(mx_msg_file("d.bin", "mxc://hs/y", "application/zip", 5, -1,
	    -1), "{\"body\":\"d.bin\",\"filename\":\"d.bin\",\"info\":{"
	    "\"mimetype\":\"application/zip\",\"size\":5},\"msgtype\":"
	    "\"m.file\",\"url\":\"mxc://hs/y\"}", "file without size");
}

static void
test_size_txn(void)
{
	json_t *a = json_pack("{s:s,s:s}", "msgtype", "m.text", "body", "é");
	json_t *b = json_pack("{s:s,s:s}", "body", "é", "msgtype", "m.text");
	json_t *c = json_pack("{s:s,s:s}", "body", "e", "msgtype", "m.text");
	const char *ev = "{\"content\":{\"body\":\"\xc3\xa9\",\"msgtype\":"
	    "\"m.text\"},\"room_id\":\"!r:h\",\"sender\":\"@a:h\","
	    "\"type\":\"m.room.message\"}";
	char *k1, *k2, *t1, *t2;

	ok(mx_msg_event_size("!r:h", "@a:h", "m.room.message", a) ==
	    strlen(ev) + MX_MSG_ENVELOPE, "event size: UTF-8 bytes "
	    "of canonical JSON plus the envelope");
	k1 = mx_msg_txn_key("!r:h", "m.room.message", a);
	k2 = mx_msg_txn_key("!r:h", "m.room.message", b);
	ok(k1 && k2 && strlen(k1) == 64 && strcmp(k1, k2) == 0,
	    "txn key ignores key order");
	free(k2);
	k2 = mx_msg_txn_key("!r:h", "m.room.message", c);
	ok(strcmp(k1, k2) != 0, "txn key depends on the content");
	free(k2);
	k2 = mx_msg_txn_key("!s:h", "m.room.message", a);
	ok(strcmp(k1, k2) != 0, "txn key depends on the room");
	free(k2);
	k2 = mx_msg_txn_key("!r:h", "m.sticker", a);
	ok(strcmp(k1, k2) != 0, "txn key depends on the type");
	free(k2);
	free(k1);
	t1 = mx_msg_txn_new();
	t2 = mx_msg_txn_new();
	ok(strlen(t1) == 2 + 16 + 2 && strncmp(t1, t2, 19) == 0 &&
	    strcmp(t1 + 19, "1") == 0 && strcmp(t2 + 19, "2") == 0,
	    "txn ids: one random prefix per process, a counter (%s %s)",
	    t1, t2);
	free(t1);
	free(t2);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

int
main(void)
{
	if (mx_crypto_init() != 0)
		return 1;
	test_text();
	test_html_text();
	test_relations();
	test_images();
	test_size_txn();
	return done();
}
