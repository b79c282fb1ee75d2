/*
 * keys: the parts of mx-keys(1) kept in files of their own, one a group of
 * subcommands: keys-login.c (login, logout, whoami), keys-devices.c
 * (devices, trust, rename, accept), keys-export.c (export-identity,
 * export, import), keys-delete.c (delete), keys-backup.c (backup).
 * mx-keys.c parses the options into struct keys_opt and calls the one the
 * first operand names.
 *
 * Each keys_SUBCOMMAND takes the operands after the subcommand's name and
 * prints JSON lines on success: 0, or -1 with e (the program chooses the
 * message and the exit status); a wrong use of the subcommand's operands
 * exits through mx_cli_usage(&keys_cli, ...).
 */
#ifndef MX_KEYS_H
#define MX_KEYS_H

#include <stddef.h>

#include "cli.h"
#include "err.h"

/* The profile's own session and store, never MX_ACCESS_TOKEN's. */
#define KEYS_OWN_STORE (MX_CTX_SESSION | MX_CTX_STORE | MX_CTX_NO_ENV)

/* The options of the command line, as given. */
struct keys_opt {
	const char *user, *homeserver, *device_name, *passphrase_file;
	const char *snapshot, *output;
	const char *room[64];
	size_t nroom;
	long long older_than; /* days; -1: not given */
	int dry_run;
	int password_stdin, token_stdin, force, unverified_exit, table;
	int recovery_key_stdin;
};

/* The program's name, usage and options, for mx_cli_usage. */
extern const struct mx_cli keys_cli;

/* keys-login.c */
int keys_login(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);
int keys_logout(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);
int keys_whoami(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);

/* Forget the profile's session and everything the device's keys protect,
 * in one transaction: a later login is a new device with new keys. */
int keys_forget_session(struct mx_ctx *c, struct mx_err *e);

/* keys-devices.c */
int keys_devices(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);
int keys_trust(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);
int keys_accept(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);
int keys_rename(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);

/* keys-export.c */
int keys_export_identity(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);
int keys_export(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);
int keys_import(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);

/* keys-delete.c */
int keys_delete(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);

/* keys-backup.c: status, restore, create */
int keys_backup(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e);

#endif
