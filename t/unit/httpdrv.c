/*
 * httpdrv: a test driver, not a test.  It performs one lib/api call given
 * on argv so that shell tests can exercise http and api against the fake
 * server (t/fakehs.py) and the real Synapse without waiting for the
 * programs.  Run alone (as `make unit` does) it reports a skip.
 *
 *   httpdrv [-v N] [-r RETRIES] [-t TIMEOUT_MS] [-k] HS COMMAND [ARG...]
 *
 * The access token comes from $MX_ACCESS_TOKEN, a password from stdin.
 * Results go to stdout (strings as lines, JSON compact); errors to stderr as
 * "httpdrv: <msg> [http=N errcode=X]"; the exit status is the mx_err's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api.h"

static struct mx_api api;
static struct mx_err err;

static int
print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	puts(s ? s : "null");
	free(s);
	json_decref(j);
	return 0;
}

static int
print_str(char *s)
{
	puts(s ? s : "(null)");
	free(s);
	return 0;
}

static json_t *
arg_json(const char *s)
{
	json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);

	if (j == NULL) {
		fprintf(stderr, "httpdrv: bad JSON argument '%s'\n", s);
		exit(2);
	}
	return j;
}

static int
cmd_whoami(void)
{
	char *u = NULL, *d = NULL;

	if (mx_api_whoami(&api, &u, &d, &err) != 0)
		return -1;
	printf("%s %s\n", u, d ? d : "-");
	free(u);
	free(d);
	return 0;
}

static int
cmd_login(const char *user)
{
	char pw[256];
	json_t *j;
	int rc;

	if (fgets(pw, sizeof(pw), stdin) == NULL)
		return mx_err_set(&err, MX_USAGE, "no password on stdin");
	pw[strcspn(pw, "\n")] = '\0';
	rc = mx_api_login_password(&api, user, pw, "httpdrv", NULL, &j, &err);
	sodium_memzero(pw, sizeof(pw));
	return rc ? -1 : print_json(j);
}

static int
cmd_state(char **av)
{
	json_t *j = NULL;
	int rc = mx_api_get_state(&api, av[0], av[1], av[2], &j, &err);

	if (rc == 0)
		puts("not found");
	return rc < 0 ? -1 : rc ? print_json(j) : 0;
}

static int
cmd_getad(char **av)
{
	json_t *j = NULL;
	int rc = mx_api_get_account_data(&api, av[0], av[1], &j, &err);

	if (rc == 0)
		puts("not found");
	return rc < 0 ? -1 : rc ? print_json(j) : 0;
}

static int
cmd_sync(int ac, char **av)
{
	json_t *j;

	/* An empty argument means "none". */
	if (mx_api_sync(&api, ac > 0 && *av[0] ? av[0] : NULL,
	    ac > 2 && *av[2] ? av[2] : NULL,
	    ac > 1 ? atol(av[1]) : 0, &j, &err) != 0)
		return -1;
	return print_json(j);
}

static int
cmd_messages(int ac, char **av)
{
	json_t *j;

	if (mx_api_messages(&api, av[0], ac > 3 && *av[3] ? av[3] : NULL,
	    NULL, av[1][0], atoi(av[2]), ac > 4 && *av[4] ? av[4] : NULL, &j,
	    &err) != 0)
		return -1;
	return print_json(j);
}

static int
cmd_upload(char **av)
{
	FILE *f = fopen(av[0], "rb");
	char *mxc = NULL;
	long len;
	int rc;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		if (f)
			fclose(f);
		return mx_err_set(&err, MX_LOCAL, "cannot open '%s'", av[0]);
	}
	rc = mx_api_upload(&api, f, len, av[1], av[2], &mxc, &err);
	fclose(f);
	return rc ? -1 : print_str(mxc);
}

static int
cmd_download(char **av)
{
	FILE *f = strcmp(av[1], "-") ? fopen(av[1], "wb") : stdout;
	int rc;

	if (f == NULL)
		return mx_err_set(&err, MX_LOCAL, "cannot create '%s'", av[1]);
	rc = mx_api_download(&api, av[0], f, &err);
	if (f != stdout && fclose(f) != 0 && rc == 0)
		return mx_err_set(&err, MX_LOCAL, "cannot write '%s'", av[1]);
	return rc;
}

static int
cmd_media_config(void)
{
	long long n;

	if (mx_api_media_config(&api, &n, &err) != 0)
		return -1;
	printf("%lld\n", n);
	return 0;
}

static int
cmd_discover(const char *server_name)
{
	char *hs;

	if (mx_api_discover(api.http, server_name, &hs, &err) != 0)
		return -1;
	return print_str(hs);
}

static int
cmd_call(int ac, char **av)
{
	json_t *b = ac > 2 ? arg_json(av[2]) : NULL, *j = NULL;
	int rc = mx_api_call(&api, av[0], av[1], b, strcmp(av[0], "POST") != 0,
	    &j, &err);

	json_decref(b);
	return rc ? -1 : print_json(j);
}

/* Commands taking only JSON or string results, in a table. */
static int
simple(const char *cmd, int ac, char **av)
{
	char *s = NULL;
	json_t *j = NULL, *b;
	int rc;

	if (strcmp(cmd, "versions") == 0 && ac == 0)
		return mx_api_versions(&api, &j, &err) ? -1 : print_json(j);
	if (strcmp(cmd, "logout") == 0 && ac == 0)
		return mx_api_logout(&api, &err);
	if (strcmp(cmd, "resolve") == 0 && ac == 1)
		return mx_api_resolve_alias(&api, av[0], &s, &err) ? -1 :
		    print_str(s);
	if (strcmp(cmd, "join") == 0 && ac == 1)
		return mx_api_join(&api, av[0], &s, &err) ? -1 : print_str(s);
	if (strcmp(cmd, "joined") == 0 && ac == 0)
		return mx_api_joined_rooms(&api, &j, &err) ? -1 :
		    print_json(j);
	if (strcmp(cmd, "members") == 0 && ac == 1)
		return mx_api_members(&api, av[0], &j, &err) ? -1 :
		    print_json(j);
	if (strcmp(cmd, "event") == 0 && ac == 2)
		return mx_api_get_event(&api, av[0], av[1], &j, &err) ? -1 :
		    print_json(j);
	if (strcmp(cmd, "redact") == 0 && (ac == 3 || ac == 4))
		return mx_api_redact(&api, av[0], av[1], av[2],
		    ac == 4 ? av[3] : NULL, &s, &err) ? -1 : print_str(s);
	if (strcmp(cmd, "create") == 0 && ac == 1) {
		b = arg_json(av[0]);
		rc = mx_api_create_room(&api, b, &s, &err);
		json_decref(b);
		return rc ? -1 : print_str(s);
	}
	if (strcmp(cmd, "send") == 0 && ac == 4) {
		b = arg_json(av[3]);
		rc = mx_api_send(&api, av[0], av[1], av[2], b, &s, &err);
		json_decref(b);
		return rc ? -1 : print_str(s);
	}
	if (strcmp(cmd, "putstate") == 0 && ac == 4) {
		b = arg_json(av[3]);
		rc = mx_api_put_state(&api, av[0], av[1], av[2], b, &s, &err);
		json_decref(b);
		return rc ? -1 : print_str(s);
	}
	if (strcmp(cmd, "putad") == 0 && ac == 3) {
		b = arg_json(av[2]);
		rc = mx_api_put_account_data(&api, av[0], av[1], b, &err);
		json_decref(b);
		return rc;
	}
	return 1;
}

static int
run(const char *cmd, int ac, char **av)
{
	int rc = simple(cmd, ac, av);

	if (rc != 1)
		return rc;
	if (strcmp(cmd, "whoami") == 0 && ac == 0)
		return cmd_whoami();
	if (strcmp(cmd, "login") == 0 && ac == 1)
		return cmd_login(av[0]);
	if (strcmp(cmd, "state") == 0 && ac == 3)
		return cmd_state(av);
	if (strcmp(cmd, "getad") == 0 && ac == 2)
		return cmd_getad(av);
	if (strcmp(cmd, "sync") == 0 && ac <= 3)
		return cmd_sync(ac, av);
	if (strcmp(cmd, "messages") == 0 && ac >= 3 && ac <= 5)
		return cmd_messages(ac, av);
	if (strcmp(cmd, "upload") == 0 && ac == 3)
		return cmd_upload(av);
	if (strcmp(cmd, "download") == 0 && ac == 2)
		return cmd_download(av);
	if (strcmp(cmd, "mediaconfig") == 0 && ac == 0)
		return cmd_media_config();
	if (strcmp(cmd, "discover") == 0 && ac == 1)
		return cmd_discover(av[0]);
	if (strcmp(cmd, "call") == 0 && (ac == 2 || ac == 3))
		return cmd_call(ac, av);
	fprintf(stderr, "httpdrv: unknown command or arguments '%s'\n", cmd);
	exit(2);
}

static void
notice_stderr(void *u, int level, const char *msg)
{
	(void)u;
	(void)level;
	fprintf(stderr, "httpdrv: %s\n", msg);
}

int
main(int argc, char **argv)
{
	struct mx_http_opts o = { { notice_stderr, NULL, 0 }, 0, 0, 0, 0 };
	int c, rc;

	if (argc < 2) {
		puts("1..0 # SKIP httpdrv is a test driver, not a test");
		return 0;
	}
	if (sodium_init() < 0)
		return 5;
	while ((c = getopt(argc, argv, "v:r:t:c:k")) != -1) {
		switch (c) {
		case 'v': o.notice.max = atoi(optarg); break;
		case 'r': o.max_retries = atoi(optarg); break;
		case 't': o.timeout_ms = atol(optarg); break;
		case 'c': o.connect_timeout_ms = atol(optarg); break;
		case 'k': o.insecure_http = 1; break;
		default: return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: httpdrv [-v N] [-r N] [-t MS] [-c MS] "
		    "[-k] HS COMMAND [ARG...]\n");
		return 2;
	}
	if ((api.http = mx_http_new(&o)) == NULL)
		return 5;
	api.hs = argv[optind];
	api.token = getenv("MX_ACCESS_TOKEN");
	mx_err_clear(&err);
	rc = run(argv[optind + 1], argc - optind - 2, argv + optind + 2);
	mx_http_free(api.http);
	if (rc == 0)
		return 0;
	fprintf(stderr, "httpdrv: %s [http=%d errcode=%s]\n", err.msg,
	    err.http, err.errcode[0] ? err.errcode : "-");
	return err.status ? err.status : 5;
}
