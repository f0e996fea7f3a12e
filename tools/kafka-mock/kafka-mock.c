/*
 * kafka-mock: serves librdkafka's in-process mock cluster (rdkafka_mock.h) on 127.0.0.1 so
 * that other processes can speak the real Kafka protocol to it. No Kafka broker can be
 * installed on our machines; this is what the Kafka bus tests run against.
 *
 *   kafka-mock [--brokers N] [--topic NAME:PARTITIONS]... [--ignore-stdin]
 *
 * The first line on stdout is the bootstrap servers list ("127.0.0.1:PORT,..."; each broker
 * listens on an ephemeral port the kernel picks), then "ready". The process runs until
 * SIGTERM/SIGINT or until stdin reaches EOF, so a parent that dies (its end of the pipe
 * closes) never leaves a mock behind. --ignore-stdin is for running it from a shell with no
 * stdin (e.g. `kafka-mock --ignore-stdin </dev/null &`): then only a signal stops it.
 *
 * Lines on stdin are commands for fault tests; each is answered with "ok ..." or "error ...":
 *   down BROKER_ID|-1     the broker(s) stop accepting and drop connections
 *   up BROKER_ID|-1       accept again
 *   rtt BROKER_ID|-1 MS   delay every response
 *   topic NAME:PARTITIONS create a topic
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
        (void)sig;
        stop_requested = 1;
}

static void usage(void) {
        fprintf(stderr,
                "usage: kafka-mock [--brokers N] [--topic NAME:PARTITIONS]... [--ignore-stdin]\n"
                "prints the bootstrap servers on the first stdout line, then 'ready';\n"
                "runs until SIGTERM/SIGINT or stdin EOF\n");
}

/* Parses "name:partitions"; returns 0 on success. */
static int parse_topic(char *spec, const char **name, int *partitions) {
        char *colon = strrchr(spec, ':');
        char *end;
        long n;
        if (!colon || colon == spec)
                return -1;
        *colon = '\0';
        errno  = 0;
        n      = strtol(colon + 1, &end, 10);
        if (errno || *end != '\0' || n < 1 || n > 10000)
                return -1;
        *name       = spec;
        *partitions = (int)n;
        return 0;
}

static int create_topic(rd_kafka_mock_cluster_t *mcluster, const char *spec, int brokers) {
        char copy[4096]; /* parsed in a copy: argv stays intact for ps */
        const char *name;
        int partitions;
        rd_kafka_resp_err_t err;
        if (strlen(spec) >= sizeof(copy)) {
                fprintf(stderr, "kafka-mock: topic spec too long\n");
                return -1;
        }
        memcpy(copy, spec, strlen(spec) + 1);
        if (parse_topic(copy, &name, &partitions) != 0) {
                fprintf(stderr, "kafka-mock: bad topic spec '%s' (want NAME:PARTITIONS)\n",
                        spec);
                return -1;
        }
        /* The mock keeps replicas on distinct brokers, so the factor cannot exceed them. */
        err = rd_kafka_mock_topic_create(mcluster, name, partitions, brokers < 3 ? brokers : 3);
        if (err) {
                fprintf(stderr, "kafka-mock: creating topic %s failed: %s\n", name,
                        rd_kafka_err2str(err));
                return -1;
        }
        return 0;
}

/* Handles one command line from stdin; answers on stdout. */
static void run_command(rd_kafka_mock_cluster_t *mcluster, char *line, int brokers) {
        char verb[16];
        int id, ms;
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
                return;
        if (sscanf(line, "%15s", verb) != 1)
                return;
        if (strcmp(verb, "down") == 0 && sscanf(line, "%*s %d", &id) == 1)
                err = rd_kafka_mock_broker_set_down(mcluster, id);
        else if (strcmp(verb, "up") == 0 && sscanf(line, "%*s %d", &id) == 1)
                err = rd_kafka_mock_broker_set_up(mcluster, id);
        else if (strcmp(verb, "rtt") == 0 && sscanf(line, "%*s %d %d", &id, &ms) == 2)
                err = rd_kafka_mock_broker_set_rtt(mcluster, id, ms);
        else if (strcmp(verb, "topic") == 0 && strlen(line) > 6) {
                if (create_topic(mcluster, line + 6, brokers) != 0) {
                        printf("error %s\n", line);
                        fflush(stdout);
                        return;
                }
        } else {
                printf("error unknown command: %s\n", line);
                fflush(stdout);
                return;
        }
        if (err)
                printf("error %s: %s\n", line, rd_kafka_err2str(err));
        else
                printf("ok %s\n", line);
        fflush(stdout);
}

int main(int argc, char **argv) {
        int brokers = 1;
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mcluster;
        struct sigaction sa;
        char buf[4096];
        size_t buffered = 0;
        int watch_stdin = 1;
        int i;

        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
                        brokers = atoi(argv[++i]);
                        if (brokers < 1 || brokers > 32) {
                                fprintf(stderr, "kafka-mock: --brokers must be 1..32\n");
                                return 2;
                        }
                } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
                        i++; /* applied after the cluster exists */
                } else if (strcmp(argv[i], "--ignore-stdin") == 0) {
                        watch_stdin = 0;
                } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        usage();
                        return 0;
                } else {
                        usage();
                        return 2;
                }
        }

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        /* The mock cluster needs an rd_kafka_t for its bookkeeping only; this producer never
         * connects anywhere. */
        conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
                fprintf(stderr, "kafka-mock: %s\n", errstr);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "kafka-mock: rd_kafka_new: %s\n", errstr);
                return 1;
        }
        mcluster = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mcluster) {
                fprintf(stderr, "kafka-mock: rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(rk);
                return 1;
        }

        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--brokers") == 0) {
                        i++;
                } else if (strcmp(argv[i], "--topic") == 0) {
                        if (create_topic(mcluster, argv[++i], brokers) != 0) {
                                rd_kafka_mock_cluster_destroy(mcluster);
                                rd_kafka_destroy(rk);
                                return 2;
                        }
                }
        }

        printf("%s\nready\n", rd_kafka_mock_cluster_bootstraps(mcluster));
        fflush(stdout);

        while (!stop_requested) {
                struct pollfd pfd = {.fd = watch_stdin ? STDIN_FILENO : -1, .events = POLLIN};
                char *nl;
                ssize_t n;
                int r = poll(&pfd, 1, 500);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (r == 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
                        continue;
                /* read(2), not stdio: a stdio buffer could hold lines that poll cannot see. */
                n = read(STDIN_FILENO, buf + buffered, sizeof(buf) - 1 - buffered);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break; /* EOF or error: our parent is gone */
                buffered += (size_t)n;
                buf[buffered] = '\0';
                while ((nl = strchr(buf, '\n')) != NULL) {
                        size_t used = (size_t)(nl - buf) + 1;
                        *nl         = '\0';
                        run_command(mcluster, buf, brokers);
                        memmove(buf, buf + used, buffered - used + 1);
                        buffered -= used;
                }
                if (buffered == sizeof(buf) - 1)
                        buffered = 0; /* an overlong line: drop it */
        }

        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}
