/* The C ABI exercised from C: compiled with gcc against include/cohort.h and linked with
 * the static library by `.ci/run`:
 *
 *   gcc -std=c11 -Wall -Wextra -Werror -pedantic -pthread -I bindings/c/include \
 *       bindings/c/tests/test_cohort.c target/debug/libcohort_c.a -lpthread -ldl -lm
 *
 * Argument 1 is a scratch directory (for the files of cohort_groups_load). Every check
 * compares whole strings; the hostile inputs (NULL pointers, invalid UTF-8, texts past the
 * CLI's limits) must give the status and message the CLI gives. Exits 1 on the first
 * failure, saying which. */

#include "cohort.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0;

#define CHECK(condition)                                                          \
    do {                                                                          \
        checks++;                                                                 \
        if (!(condition)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n  last error: %s\n",        \
                    __FILE__, __LINE__, #condition,                               \
                    cohort_last_error() ? cohort_last_error() : "(none)");        \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

/* `text` equals `expected`; frees `text`. */
static void check_string(char *text, const char *expected, int line) {
    checks++;
    if (text == NULL || strcmp(text, expected) != 0) {
        fprintf(stderr, "%s:%d: got\n  %s\nexpected\n  %s\n", __FILE__, line,
                text ? text : "(NULL)", expected);
        exit(1);
    }
    cohort_string_free(text);
}
#define CHECK_STRING(text, expected) check_string((text), (expected), __LINE__)

/* The last error's message equals `expected`. */
static void check_error(const char *expected, int line) {
    const char *message = cohort_last_error();
    checks++;
    if (message == NULL || strcmp(message, expected) != 0) {
        fprintf(stderr, "%s:%d: last error\n  %s\nexpected\n  %s\n", __FILE__, line,
                message ? message : "(NULL)", expected);
        exit(1);
    }
}
#define CHECK_ERROR(expected) check_error((expected), __LINE__)

/* The last error's message starts with `prefix`. */
static void check_error_prefix(const char *prefix, int line) {
    const char *message = cohort_last_error();
    checks++;
    if (message == NULL || strncmp(message, prefix, strlen(prefix)) != 0) {
        fprintf(stderr, "%s:%d: last error\n  %s\nexpected to start with\n  %s\n", __FILE__,
                line, message ? message : "(NULL)", prefix);
        exit(1);
    }
}
#define CHECK_ERROR_PREFIX(prefix) check_error_prefix((prefix), __LINE__)

static const char *GROUPS =
    "groups:\n"
    "  - name: Low Disk\n"
    "    where: \"[Free Disk %] < 10\"\n"
    "  - name: Servers\n"
    "    where: Machine Type = Server\n"
    "  - name: Low Disk Servers\n"
    "    where: member of 'Low Disk' and member of Servers\n"
    "  - name: Stale\n"
    "    where: Last Seen older than 30 days\n";

static void evaluation(void) {
    CohortGroups *groups = NULL;
    CHECK(cohort_groups_from_yaml(GROUPS, NULL, &groups) == COHORT_STATUS_OK);
    CHECK(groups != NULL);
    CHECK(cohort_last_error() == NULL);

    char *json = NULL;
    CHECK(cohort_groups_names(groups, &json) == COHORT_STATUS_OK);
    CHECK_STRING(json, "[\"Low Disk\",\"Servers\",\"Low Disk Servers\",\"Stale\"]");

    const char *fleet =
        "[{\"id\": \"SRV-1\", \"Machine Type\": \"Server\", \"Free Disk %\": 4,"
        "  \"Last Seen\": \"2026-09-01\"},\n"
        " {\"id\": \"WS-2\", \"Machine Type\": \"Workstation\", \"Free Disk %\": 3.5},\n"
        " {\"Machine Type\": \"server\", \"Free Disk %\": \"55\"}]";
    CHECK(cohort_evaluate(groups, fleet, "2026-11-25T00:00:00Z", &json) == COHORT_STATUS_OK);
    CHECK_STRING(json,
                 "{\"machines\":3,\"groups\":["
                 "{\"name\":\"Low Disk\",\"count\":2,\"members\":[\"SRV-1\",\"WS-2\"]},"
                 "{\"name\":\"Servers\",\"count\":2,\"members\":[\"SRV-1\",\"#3\"]},"
                 "{\"name\":\"Low Disk Servers\",\"count\":1,\"members\":[\"SRV-1\"]},"
                 "{\"name\":\"Stale\",\"count\":1,\"members\":[\"SRV-1\"]}]}");

    /* NDJSON reads the same. */
    CHECK(cohort_evaluate(groups, "{\"id\": \"a\", \"Free Disk %\": 1}\n{\"id\": \"b\"}\n",
                          "2026-11-25", &json) == COHORT_STATUS_OK);
    CHECK_STRING(json,
                 "{\"machines\":2,\"groups\":["
                 "{\"name\":\"Low Disk\",\"count\":1,\"members\":[\"a\"]},"
                 "{\"name\":\"Servers\",\"count\":0,\"members\":[]},"
                 "{\"name\":\"Low Disk Servers\",\"count\":0,\"members\":[]},"
                 "{\"name\":\"Stale\",\"count\":0,\"members\":[]}]}");

    /* Ids from another field, as `cohort eval --id-field`. */
    CHECK(cohort_evaluate_ids(groups, "[{\"agent_id\": 7, \"Free Disk %\": 1}, {\"id\": \"x\"}]",
                              "2026-11-25", "agent_id", &json) == COHORT_STATUS_OK);
    CHECK_STRING(json,
                 "{\"machines\":2,\"groups\":["
                 "{\"name\":\"Low Disk\",\"count\":1,\"members\":[\"7\"]},"
                 "{\"name\":\"Servers\",\"count\":0,\"members\":[]},"
                 "{\"name\":\"Low Disk Servers\",\"count\":0,\"members\":[]},"
                 "{\"name\":\"Stale\",\"count\":0,\"members\":[]}]}");

    CHECK(cohort_machine_groups(groups,
                                "{\"Machine Type\": \"Server\", \"Free Disk %\": 9}",
                                "2026-11-25", &json) == COHORT_STATUS_OK);
    CHECK_STRING(json, "[\"Low Disk\",\"Servers\",\"Low Disk Servers\"]");

    CHECK(cohort_explain(groups, "{\"Machine Type\": \"Laptop\"}", "Servers", "2026-11-25",
                         &json) == COHORT_STATUS_OK);
    CHECK(json != NULL);
    CHECK(strncmp(json, "{\"explanation\":\"", 16) == 0);
    CHECK(strstr(json, "\"matched\":false") != NULL);
    CHECK(strstr(json, "\"group\":\"Servers\"") != NULL);
    CHECK(strstr(json, "Laptop") != NULL);
    cohort_string_free(json);

    /* A tracker: join and leave events, the clock moved, a machine removed. */
    CohortTracker *tracker = NULL;
    CHECK(cohort_tracker_new(groups, "2026-10-01", &tracker) == COHORT_STATUS_OK);
    /* The tracker keeps the groups alive. */
    cohort_groups_free(groups);
    CHECK(cohort_tracker_upsert(tracker, "SRV-1",
                                "{\"Machine Type\": \"Server\", \"Free Disk %\": 50,"
                                " \"Last Seen\": \"2026-09-15\"}",
                                &json) == COHORT_STATUS_OK);
    CHECK_STRING(json, "[{\"change\":\"joined\",\"group\":\"Servers\",\"machine\":\"SRV-1\"}]");
    CHECK(cohort_tracker_upsert(tracker, "SRV-1",
                                "{\"Machine Type\": \"Server\", \"Free Disk %\": 5,"
                                " \"Last Seen\": \"2026-09-15\"}",
                                &json) == COHORT_STATUS_OK);
    CHECK_STRING(json,
                 "[{\"change\":\"joined\",\"group\":\"Low Disk\",\"machine\":\"SRV-1\"},"
                 "{\"change\":\"joined\",\"group\":\"Low Disk Servers\",\"machine\":\"SRV-1\"}]");
    CHECK(cohort_tracker_set_now(tracker, "2026-11-25", &json) == COHORT_STATUS_OK);
    CHECK_STRING(json, "[{\"change\":\"joined\",\"group\":\"Stale\",\"machine\":\"SRV-1\"}]");
    CHECK(cohort_tracker_members(tracker, "Low Disk", &json) == COHORT_STATUS_OK);
    CHECK_STRING(json, "[\"SRV-1\"]");
    CHECK(cohort_tracker_remove(tracker, "SRV-1", &json) == COHORT_STATUS_OK);
    CHECK_STRING(json,
                 "[{\"change\":\"left\",\"group\":\"Low Disk\",\"machine\":\"SRV-1\"},"
                 "{\"change\":\"left\",\"group\":\"Servers\",\"machine\":\"SRV-1\"},"
                 "{\"change\":\"left\",\"group\":\"Low Disk Servers\",\"machine\":\"SRV-1\"},"
                 "{\"change\":\"left\",\"group\":\"Stale\",\"machine\":\"SRV-1\"}]");
    CHECK(cohort_tracker_remove(tracker, "never-seen", &json) == COHORT_STATUS_OK);
    CHECK_STRING(json, "[]");
    CHECK(cohort_tracker_members(tracker, "Low Dsk", &json) == COHORT_STATUS_INVALID_ARGUMENT);
    CHECK(json == NULL);
    CHECK_ERROR("no group named `Low Dsk`; did you mean `Low Disk`?");
    cohort_tracker_free(tracker);
}

static void definitions_errors(const char *scratch) {
    CohortGroups *groups = (CohortGroups *)1; /* overwritten with NULL on failure */
    const char *bad =
        "groups:\n"
        "  - name: G\n"
        "    blocks:\n"
        "      - - {field: OS, operator: contans any of, value: x}\n"
        "  - name: H\n"
        "    where: member of Nowhere\n";
    CHECK(cohort_groups_from_yaml(bad, NULL, &groups) == COHORT_STATUS_INVALID_DEFINITIONS);
    CHECK(groups == NULL);
    CHECK_ERROR_PREFIX("<string>:4:33: unknown operator `contans any of`\n  in group `G`");
    const char *json = cohort_last_error_json();
    CHECK(json != NULL);
    CHECK(strstr(json, "\"status\":\"invalid_definitions\"") != NULL);
    CHECK(strstr(json, "{\"column\":33,\"criterion\":\"block 1, criterion 1 (`OS`)\","
                       "\"file\":\"<string>\",\"group\":\"G\","
                       "\"help\":\"did you mean `contains any of`?\",\"line\":4,"
                       "\"message\":\"unknown operator `contans any of`\"}") != NULL);
    CHECK(strstr(json, "\"group\":\"H\"") != NULL);

    /* A schema: values checked against it. */
    const char *schema = "fields:\n  - {name: Free Disk %, type: number}\n";
    CHECK(cohort_groups_from_yaml("name: D\nwhere: \"'Free Disk %' contains 10\"\n", schema,
                                  &groups) == COHORT_STATUS_INVALID_DEFINITIONS);
    CHECK_ERROR_PREFIX(
        "<string>:2:23: `contains any of` does not apply to `Free Disk %`, a number field");
    CHECK(cohort_groups_from_yaml("name: D\nwhere: \"'Free Disk %' < 10\"\n", schema,
                                  &groups) == COHORT_STATUS_OK);
    cohort_groups_free(groups);
    CHECK(cohort_groups_from_yaml("name: D\nwhere: x = 1\n", "fields: 3\n", &groups) ==
          COHORT_STATUS_INVALID_DEFINITIONS);
    CHECK_ERROR_PREFIX("<schema>:1:9: ");

    /* From a file, as the CLI reads it. */
    char path[4096];
    snprintf(path, sizeof path, "%s/groups.yaml", scratch);
    FILE *file = fopen(path, "w");
    CHECK(file != NULL);
    fputs(GROUPS, file);
    fclose(file);
    CHECK(cohort_groups_load(path, NULL, &groups) == COHORT_STATUS_OK);
    cohort_groups_free(groups);
    snprintf(path, sizeof path, "%s/missing.yaml", scratch);
    CHECK(cohort_groups_load(path, NULL, &groups) == COHORT_STATUS_INVALID_DEFINITIONS);
    CHECK(strstr(cohort_last_error(), "missing.yaml") != NULL);
}

static void hostile(void) {
    CohortGroups *groups = NULL;
    char *json = NULL;

    /* NULL pointers. */
    CHECK(cohort_groups_from_yaml(NULL, NULL, &groups) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK_ERROR("`yaml` is NULL");
    CHECK(cohort_groups_from_yaml(GROUPS, NULL, NULL) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK_ERROR("`out` is NULL");
    CHECK(cohort_groups_load(NULL, NULL, &groups) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(cohort_evaluate(NULL, "[]", NULL, &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK_ERROR("`groups` is NULL");
    CHECK(cohort_groups_names(NULL, &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(cohort_machine_groups(NULL, "{}", NULL, &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(cohort_explain(NULL, "{}", "G", NULL, &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(cohort_tracker_new(NULL, NULL, NULL) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(cohort_tracker_upsert(NULL, "a", "{}", &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK_ERROR("`tracker` is NULL");
    CHECK(cohort_tracker_remove(NULL, "a", &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(cohort_tracker_set_now(NULL, "2026-01-01", &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(cohort_tracker_members(NULL, "G", &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(json == NULL);
    cohort_groups_free(NULL);
    cohort_tracker_free(NULL);
    cohort_string_free(NULL);

    CHECK(cohort_groups_from_yaml(GROUPS, NULL, &groups) == COHORT_STATUS_OK);
    CHECK(cohort_evaluate(groups, NULL, NULL, &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK_ERROR("`machines_json` is NULL");
    CHECK(cohort_evaluate(groups, "[]", NULL, NULL) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK_ERROR("`out_json` is NULL");
    CHECK(cohort_explain(groups, "{}", NULL, NULL, &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK_ERROR("`group` is NULL");

    /* Invalid UTF-8, as the CLI reports it in a machines file. */
    cohort_groups_free(groups);
    CHECK(cohort_groups_from_yaml("name: G\xff\nwhere: a = b\n", NULL, &groups) ==
          COHORT_STATUS_INVALID_UTF8);
    CHECK_ERROR("`yaml`: not valid UTF-8 text: first invalid byte at line 1, column 8 "
                "(byte offset 7)");
    CHECK(cohort_groups_from_yaml(GROUPS, NULL, &groups) == COHORT_STATUS_OK);
    CHECK(cohort_evaluate(groups, "[{\"id\": \"a\"},\n {\"id\": \"\xc3\x28\"}]", NULL, &json) ==
          COHORT_STATUS_INVALID_UTF8);
    CHECK_ERROR("`machines_json`: not valid UTF-8 text: first invalid byte at line 2, "
                "column 10 (byte offset 23)");
    CHECK(cohort_explain(groups, "{}", "Serv\xe9rs", NULL, &json) == COHORT_STATUS_INVALID_UTF8);

    /* Bad arguments. */
    CHECK(cohort_evaluate(groups, "[]", "tomorrow", &json) == COHORT_STATUS_INVALID_ARGUMENT);
    CHECK_ERROR("`tomorrow` is not an RFC 3339 time such as 2026-11-25T12:00:00Z");
    CHECK(cohort_explain(groups, "{}", "Server", NULL, &json) == COHORT_STATUS_INVALID_ARGUMENT);
    CHECK_ERROR("no group named `Server`; did you mean `Servers`?");

    /* Bad machines: the fleet reader's messages. */
    CHECK(cohort_evaluate(groups, "{\"id\": \"a\"}\n{\"id\": }\n", NULL, &json) ==
          COHORT_STATUS_INVALID_MACHINES);
    CHECK_ERROR("`machines`: 1 bad record:\n  line 2, column 8: invalid JSON: expected value");
    CHECK(cohort_evaluate(groups, "[1, 2]", NULL, &json) == COHORT_STATUS_INVALID_MACHINES);
    CHECK(cohort_machine_groups(groups, "[{}, {}]", NULL, &json) == COHORT_STATUS_INVALID_MACHINES);
    CHECK_ERROR("expected one machine (a JSON object of attributes), found 2");
    CHECK(cohort_explain(groups, "\"text\"", "Servers", NULL, &json) ==
          COHORT_STATUS_INVALID_MACHINES);
    CHECK(json == NULL);

    /* Huge inputs: definitions past the limit of a definitions file (16 MiB), a machine
     * line past the fleet reader's limit (64 MiB). */
    size_t big = 16u * 1024 * 1024 + 1;
    char *text = malloc(big + 1);
    CHECK(text != NULL);
    memset(text, '#', big);
    text[big] = '\0';
    CohortGroups *refused = NULL;
    CHECK(cohort_groups_from_yaml(text, NULL, &refused) == COHORT_STATUS_INVALID_DEFINITIONS);
    CHECK(refused == NULL);
    CHECK_ERROR("`<string>` is over the limit of 16777216 bytes for a definitions file");
    free(text);

    /* One machine per line, then a line past the fleet reader's record limit, as the CLI
     * reports it for such a file. */
    const char *first = "{\"id\": \"a\"}\n{\"id\": \"";
    const char *last = "\"}\n{\"id\": \"b\"}\n";
    size_t line = 72u * 1024 * 1024;
    text = malloc(strlen(first) + line + strlen(last) + 1);
    CHECK(text != NULL);
    strcpy(text, first);
    memset(text + strlen(first), 'x', line);
    strcpy(text + strlen(first) + line, last);
    CHECK(cohort_evaluate(groups, text, NULL, &json) == COHORT_STATUS_INVALID_MACHINES);
    CHECK_ERROR("`machines`: line 2: a record longer than 67108864 bytes, the limit (a line end "
                "or a closing quote is missing?)");
    /* The same text without line ends is read as one JSON value, as the CLI reads such a
     * file: it ends inside a string. */
    memset(text, 'x', strlen(first) + line + strlen(last));
    memcpy(text, "{\"id\": \"", 8);
    CHECK(cohort_evaluate(groups, text, NULL, &json) == COHORT_STATUS_INVALID_MACHINES);
    CHECK_ERROR("`machines`: invalid JSON: EOF while parsing a string at line 1 column 75497507");
    free(text);

    /* Deeply nested machine lists are refused by the JSON reader, not a stack overflow. */
    size_t depth = 100000;
    text = malloc(2 * depth + 32);
    CHECK(text != NULL);
    strcpy(text, "{\"Machine Type\": ");
    size_t at = strlen(text);
    memset(text + at, '[', depth);
    memset(text + at + depth, ']', depth);
    strcpy(text + at + 2 * depth, "}");
    CHECK(cohort_machine_groups(groups, text, NULL, &json) == COHORT_STATUS_INVALID_MACHINES);
    CHECK(cohort_tracker_new(groups, NULL, NULL) == COHORT_STATUS_NULL_ARGUMENT);
    free(text);

    cohort_groups_free(groups);
}

/* Threads: one groups handle evaluated by several threads at once, each with its own last
 * error. */
struct worker {
    const CohortGroups *groups;
    int index;
    int failures;
};

static void *work(void *argument) {
    struct worker *worker = argument;
    char bad_now[32];
    snprintf(bad_now, sizeof bad_now, "not-a-time-%d", worker->index);
    char expected[96];
    snprintf(expected, sizeof expected,
             "`%s` is not an RFC 3339 time such as 2026-11-25T12:00:00Z", bad_now);
    for (int round = 0; round < 200; round++) {
        char *json = NULL;
        if (cohort_machine_groups(worker->groups, "{\"Machine Type\": \"Server\", \"Free Disk %\": 1}",
                                  "2026-11-25", &json) != COHORT_STATUS_OK ||
            strcmp(json, "[\"Low Disk\",\"Servers\",\"Low Disk Servers\"]") != 0) {
            worker->failures++;
        }
        cohort_string_free(json);
        if (cohort_evaluate(worker->groups, "[]", bad_now, &json) != COHORT_STATUS_INVALID_ARGUMENT ||
            strcmp(cohort_last_error(), expected) != 0) {
            worker->failures++;
        }
    }
    return NULL;
}

static void threads(void) {
    CohortGroups *groups = NULL;
    CHECK(cohort_groups_from_yaml(GROUPS, NULL, &groups) == COHORT_STATUS_OK);
    enum { THREADS = 4 };
    pthread_t ids[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){groups, i, 0};
        CHECK(pthread_create(&ids[i], NULL, work, &workers[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(ids[i], NULL) == 0);
        CHECK(workers[i].failures == 0);
    }
    cohort_groups_free(groups);
}

int main(int argc, char **argv) {
    const char *scratch = argc > 1 ? argv[1] : "/tmp";
    CHECK(strcmp(cohort_version(), "0.1.0") == 0);
    evaluation();
    definitions_errors(scratch);
    hostile();
    threads();
    printf("C ABI: %d checks passed\n", checks);
    return 0;
}
