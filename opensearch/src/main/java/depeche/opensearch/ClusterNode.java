package depeche.opensearch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.percolator.PercolatorPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One real OpenSearch node in this JVM, built from the Maven Central jars.
 *
 * <p>A distribution loads its plugins from a plugins/ folder; here they are on the classpath, so
 * the node is given their classes (Node's constructor for that). Usage:
 * {@code ClusterNode NAME HOME HTTP_PORT TRANSPORT_PORT SEED_PORTS MANAGER_NAMES}, e.g.
 * {@code n1 build/n1 9250 9350 9350,9351 n1,n2}. Everything binds to 127.0.0.1.
 */
public final class ClusterNode extends Node {

    /** The plugins a distribution would load: analysis (elision, stemmers, pattern filters...), the
     *  percolator (saved-search alerts) and HTTP/transport. */
    static final List<Class<? extends Plugin>> PLUGINS = List.of(CommonAnalysisPlugin.class, PercolatorPlugin.class, Netty4Plugin.class);

    ClusterNode(Settings settings) {
        super(InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), null, () -> settings.get("node.name")),
              PLUGINS, true);
    }

    static Settings settings(String name, Path home, String http, String transport, String seeds, String managers) {
        Settings.Builder b = Settings.builder()
            .put("cluster.name", "depeche-dev")
            .put("node.name", name)
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", http)
            .put("transport.port", transport)
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            // A shared development disk may be nearly full: allocation must not depend on it.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", false)
            .putList("discovery.seed_hosts", ports(seeds))
            .putList("cluster.initial_cluster_manager_nodes", managers.split(","));
        return b.build();
    }

    private static List<String> ports(String seeds) {
        return java.util.Arrays.stream(seeds.split(",")).map(p -> "127.0.0.1:" + p.trim()).toList();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: ClusterNode NAME HOME HTTP_PORT TRANSPORT_PORT SEED_PORTS MANAGER_NAMES");
            System.exit(2);
        }
        Path home = Path.of(args[1]).toAbsolutePath();
        Files.createDirectories(home.resolve("config"));
        Node node = new ClusterNode(settings(args[0], home, args[2], args[3], args[4], args[5]));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }));
        node.start();
        System.out.println("node " + args[0] + " started: http 127.0.0.1:" + args[2]);
        stopped.await();
    }
}
