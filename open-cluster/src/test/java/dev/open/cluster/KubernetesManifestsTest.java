package dev.open.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryYamlConfig;
import com.hazelcast.config.InvalidConfigurationException;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.RestEndpointGroup;
import com.hazelcast.kubernetes.HazelcastKubernetesDiscoveryStrategyFactory;
import com.hazelcast.spi.properties.ClusterProperty;
import com.hazelcast.spi.properties.HazelcastProperty;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;

/**
 * The Kubernetes example of docs/operations/kubernetes.md: every manifest under
 * docs/operations/kubernetes/ parses into fabric8's typed model, strictly (a misspelled field
 * fails), and the objects agree with each other and with the Hazelcast configuration they carry.
 * No cluster and no network: this checks what can be checked from the files.
 */
class KubernetesManifestsTest {
  static final Path DIR = repoRoot().resolve("docs/operations/kubernetes");
  static final String MEMBER_CONTAINER = "app";
  static final String HAZELCAST_PORT_NAME = "hazelcast";
  static final String CLUSTER_DOMAIN = "cluster.local";

  /**
   * Jackson reading YAML into fabric8's model with no tolerance. fabric8's classes put any field
   * they do not know into a map of "additional properties" (a {@code @JsonAnySetter}), so
   * FAIL_ON_UNKNOWN_PROPERTIES alone would never fire; this mapper ignores that annotation, and a
   * misspelled field fails the parse, naming the field and the class.
   */
  static final YAMLMapper STRICT = YAMLMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
      .annotationIntrospector(new JacksonAnnotationIntrospector() {
        @Override
        public Boolean hasAnySetter(Annotated a) {
          return Boolean.FALSE;
        }
      })
      .build();

  /** The kinds this example has a typed fabric8 class for, by kind. */
  static final Map<String, Class<? extends HasMetadata>> TYPED = Map.of(
      "Namespace", Namespace.class,
      "ConfigMap", ConfigMap.class,
      "Service", Service.class,
      "StatefulSet", StatefulSet.class,
      "NetworkPolicy", NetworkPolicy.class,
      "PodDisruptionBudget", PodDisruptionBudget.class);

  /** One YAML document of one manifest file. */
  record Manifest(Path file, JsonNode tree) {
    String kind() {
      return tree.path("kind").asText();
    }

    @Override
    public String toString() {
      return DIR.relativize(file) + " (" + kind() + ")";
    }
  }

  static List<Manifest> manifests;
  static Map<Class<?>, List<HasMetadata>> typed;
  static Namespace namespace;
  static ConfigMap configMap;
  static Service service;
  static StatefulSet statefulSet;
  static NetworkPolicy networkPolicy;
  static PodDisruptionBudget podDisruptionBudget;
  /** The hazelcast.yaml of the ConfigMap, as Hazelcast reads it (parsed once: seconds, cold). */
  static Config hazelcast;

  @BeforeAll
  static void parseEveryManifest() throws IOException {
    manifests = readAll();
    // Hazelcast's first parse loads its schema (about two seconds cold): on a thread of its own,
    // while fabric8's model loads on this one.
    CompletableFuture<Config> hazelcastParse = manifests.stream()
        .filter(m -> m.kind().equals("ConfigMap")).map(m -> m.tree().at("/data/hazelcast.yaml"))
        .filter(JsonNode::isTextual).findFirst()
        .map(yaml -> CompletableFuture.<Config>supplyAsync(
            () -> new InMemoryYamlConfig(yaml.asText())))
        .orElseThrow(() -> new AssertionError("no ConfigMap with hazelcast.yaml in " + DIR));
    typed = new LinkedHashMap<>();
    for (Manifest m : manifests) {
      Class<? extends HasMetadata> type = TYPED.get(m.kind());
      if (type == null) {
        continue;
      }
      HasMetadata object = parse(m, type);
      typed.computeIfAbsent(type, t -> new ArrayList<>()).add(object);
    }
    namespace = only(Namespace.class);
    configMap = only(ConfigMap.class);
    service = only(Service.class);
    statefulSet = only(StatefulSet.class);
    networkPolicy = only(NetworkPolicy.class);
    podDisruptionBudget = only(PodDisruptionBudget.class);
    hazelcast = hazelcastParse.join();
  }

  // --- The files -------------------------------------------------------------------------------

  @Test
  void everyManifestIsAKindThisTestChecks() {
    assertThat(manifests).as("manifests in %s", DIR).isNotEmpty();
    Set<String> checked = new TreeSet<>(TYPED.keySet());
    assertThat(manifests).allSatisfy(m -> assertThat(m.kind()).as("%s", m).isIn(checked));
  }

  @Test
  void everyTypedManifestHasTheApiVersionOfItsModelClass() {
    typed.forEach((type, objects) -> assertThat(objects).allSatisfy(o -> assertThat(
        o.getApiVersion()).as(type.getSimpleName()).isEqualTo(HasMetadata.getApiVersion(type))));
  }

  @Test
  void aMisspelledFieldFailsTheParse() {
    Manifest sts = manifests.stream().filter(m -> m.kind().equals("StatefulSet")).findFirst()
        .orElseThrow();
    ObjectNode top = sts.tree().deepCopy();
    ((ObjectNode) top.path("spec")).put("replicaz", 3);
    assertThatThrownBy(() -> STRICT.treeToValue(top, StatefulSet.class))
        .hasMessageContaining("replicaz");

    ObjectNode nested = sts.tree().deepCopy();
    ObjectNode container = (ObjectNode) nested.at("/spec/template/spec/containers/0");
    container.set("livenesProbe", container.path("livenessProbe"));
    assertThatThrownBy(() -> STRICT.treeToValue(nested, StatefulSet.class))
        .hasMessageContaining("livenesProbe");
  }

  @Test
  void everyObjectLivesInTheExamplesNamespace() {
    List<ObjectMeta> namespaced = Stream.of(configMap, service, statefulSet, networkPolicy,
            podDisruptionBudget).map(HasMetadata::getMetadata).toList();
    assertThat(namespaced).allSatisfy(meta -> assertThat(meta.getNamespace())
        .as("namespace of %s", meta.getName()).isEqualTo(namespace.getMetadata().getName()));
  }

  // --- Service and StatefulSet -----------------------------------------------------------------

  @Test
  void theServiceIsHeadlessAndSelectsTheStatefulSetsPods() {
    assertThat(service.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(service.getSpec().getType()).isIn(null, "ClusterIP");
    assertThat(service.getSpec().getPublishNotReadyAddresses())
        .as("publishNotReadyAddresses: pods must find each other before they are ready")
        .isTrue();
    assertThat(service.getSpec().getSelector()).isNotEmpty();
    assertThat(podLabels()).containsAllEntriesOf(service.getSpec().getSelector());
  }

  @Test
  void theStatefulSetIsGovernedByTheHeadlessServiceAndSelectsItsOwnPods() {
    assertThat(statefulSet.getSpec().getServiceName())
        .isEqualTo(service.getMetadata().getName());
    LabelSelector selector = statefulSet.getSpec().getSelector();
    assertThat(selector.getMatchExpressions()).isNullOrEmpty();
    assertThat(selector.getMatchLabels()).isNotEmpty();
    assertThat(podLabels()).containsAllEntriesOf(selector.getMatchLabels());
    assertThat(statefulSet.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
    assertThat(statefulSet.getSpec().getReplicas()).as("members survive one loss with >= 3")
        .isGreaterThanOrEqualTo(3);
  }

  @Test
  void theMemberPortIsTheServicesPortAndHazelcastsPort() {
    ContainerPort member = containerPort(HAZELCAST_PORT_NAME);
    ServicePort port = service.getSpec().getPorts().stream()
        .filter(p -> HAZELCAST_PORT_NAME.equals(p.getName())).findFirst().orElseThrow();
    assertThat(port.getPort()).isEqualTo(member.getContainerPort()).isEqualTo(5701);
    assertThat(resolvePort(port.getTargetPort())).isEqualTo(member.getContainerPort());
    assertThat(hazelcastConfig().getNetworkConfig().getPort())
        .isEqualTo(member.getContainerPort());
    assertThat(hazelcastConfig().getNetworkConfig().isPortAutoIncrement()).isFalse();
  }

  // --- The Hazelcast configuration -------------------------------------------------------------

  @Test
  void theHazelcastConfigJoinsThroughTheServicesDnsNameOnly() {
    Config config = hazelcastConfig();
    assertThat(config.getClusterName()).isEqualTo("open-app")
        .isNotEqualTo(new Config().getClusterName());
    JoinConfig join = config.getNetworkConfig().getJoin();
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    String fqdn = service.getMetadata().getName() + "." + service.getMetadata().getNamespace()
        + ".svc." + CLUSTER_DOMAIN;
    assertThat(join.getKubernetesConfig().getProperty("service-dns")).isEqualTo(fqdn);
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    assertThat(join.getAwsConfig().isEnabled()).isFalse();
    assertThat(join.getGcpConfig().isEnabled()).isFalse();
    assertThat(join.getAzureConfig().isEnabled()).isFalse();
    assertThat(join.getEurekaConfig().isEnabled()).isFalse();
    assertThat(join.getDiscoveryConfig().getDiscoveryStrategyConfigs()).isEmpty();
  }

  /**
   * Hazelcast's schema rejects a misspelled element, but not a misspelled discovery property or
   * cluster property (both are free-form maps): those are checked against the names Hazelcast 5.7
   * knows.
   */
  @Test
  void everyDiscoveryPropertyAndClusterPropertyIsOneHazelcastKnows() {
    Config config = hazelcastConfig();
    Set<String> discovery = new HazelcastKubernetesDiscoveryStrategyFactory()
        .getConfigurationProperties().stream().map(p -> p.key()).collect(Collectors.toSet());
    assertThat(config.getNetworkConfig().getJoin().getKubernetesConfig().getProperties().keySet())
        .isSubsetOf(discovery);
    assertThat(config.getProperties().stringPropertyNames()).isNotEmpty()
        .isSubsetOf(clusterPropertyNames());
  }

  @Test
  void hazelcastsSchemaRejectsAMisspelledElement() {
    String yaml = hazelcastYaml().replace("multicast:", "multicastt:");
    assertThat(yaml).isNotEqualTo(hazelcastYaml());
    assertThatThrownBy(() -> new InMemoryYamlConfig(yaml))
        .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("multicastt");
  }

  @Test
  void phoneHomeIsOffAndShutdownIsGracefulWithinTheGracePeriod() {
    Config config = hazelcastConfig();
    assertThat(config.getProperty(ClusterProperty.PHONE_HOME_ENABLED.getName()))
        .isEqualTo("false");
    assertThat(config.getProperty(ClusterProperty.SHUTDOWNHOOK_ENABLED.getName()))
        .isNotEqualTo("false");
    assertThat(config.getProperty(ClusterProperty.SHUTDOWNHOOK_POLICY.getName()))
        .isEqualTo("GRACEFUL");
    long maxWait = seconds(config, ClusterProperty.GRACEFUL_SHUTDOWN_MAX_WAIT);
    long preStop = memberContainer().getLifecycle().getPreStop().getSleep().getSeconds();
    assertThat(statefulSet.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
        .as("room for the preStop sleep and the graceful shutdown")
        .isGreaterThan(preStop + maxWait);
  }

  @Test
  void failureDetectionIsSetExplicitlyAndLeavesRoomForPauses() {
    Config config = hazelcastConfig();
    long interval = seconds(config, ClusterProperty.HEARTBEAT_INTERVAL_SECONDS);
    long maxSilence = seconds(config, ClusterProperty.MAX_NO_HEARTBEAT_SECONDS);
    assertThat(maxSilence).as("several heartbeats may be missed").isGreaterThanOrEqualTo(
        4 * interval);
  }

  @SuppressWarnings("removal")
  @Test
  void theRestApiServesTheHealthCheckAndNothingElse() {
    var rest = hazelcastConfig().getNetworkConfig().getRestApiConfig();
    assertThat(rest.isEnabled()).isTrue();
    assertThat(rest.getEnabledGroups()).containsExactly(RestEndpointGroup.HEALTH_CHECK);
  }

  // --- The pod ---------------------------------------------------------------------------------

  @Test
  void everyContainerHasCpuAndMemoryRequestsAndLimits() {
    PodSpec pod = statefulSet.getSpec().getTemplate().getSpec();
    List<Container> containers = new ArrayList<>(pod.getContainers());
    if (pod.getInitContainers() != null) {
      containers.addAll(pod.getInitContainers());
    }
    assertThat(containers).allSatisfy(c -> {
      Map<String, Quantity> requests = c.getResources().getRequests();
      Map<String, Quantity> limits = c.getResources().getLimits();
      assertThat(requests).as("%s requests", c.getName()).containsKeys("cpu", "memory");
      assertThat(limits).as("%s limits", c.getName()).containsKeys("cpu", "memory");
      for (String resource : List.of("cpu", "memory")) {
        assertThat(Quantity.getAmountInBytes(limits.get(resource)))
            .as("%s: %s limit >= request", c.getName(), resource)
            .isGreaterThanOrEqualTo(Quantity.getAmountInBytes(requests.get(resource)));
      }
    });
  }

  @Test
  void theHeapIsAShareOfTheMemoryLimitAndTheJvmAcceptsItsOptions() throws Exception {
    String options = env("JAVA_TOOL_OPTIONS");
    assertThat(options).doesNotContain("-Xmx", "-XX:MaxHeapSize");
    Matcher pct = Pattern.compile("-XX:MaxRAMPercentage=([0-9.]+)").matcher(options);
    assertThat(pct.find()).as("MaxRAMPercentage in %s", options).isTrue();
    assertThat(Double.parseDouble(pct.group(1))).as("room beside the heap for the JVM and the "
        + "workers").isBetween(25.0, 75.0);

    // The same options, given to this JDK: a typo would leave the pod crash-looping.
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(java.toString(), "-version").redirectErrorStream(true);
    pb.environment().put("JAVA_TOOL_OPTIONS", options);
    Process process = pb.start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("java -version with JAVA_TOOL_OPTIONS:%n%s", output)
        .isZero();
  }

  @Test
  void theHazelcastConfigFileIsTheMountedConfigMapKey() {
    Matcher file = Pattern.compile("-Dhazelcast\\.config=(\\S+)")
        .matcher(env("JAVA_TOOL_OPTIONS"));
    assertThat(file.find()).isTrue();
    Path path = Path.of(file.group(1));
    VolumeMount mount = memberContainer().getVolumeMounts().stream()
        .filter(m -> path.getParent().equals(Path.of(m.getMountPath()))).findFirst()
        .orElseThrow(() -> new AssertionError("no volume mounted at " + path.getParent()));
    Volume volume = statefulSet.getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
    assertThat(volume.getConfigMap().getName()).isEqualTo(configMap.getMetadata().getName());
    assertThat(configMap.getData()).containsKey(path.getFileName().toString());
  }

  @Test
  void theProbesExistAndPointAtDeclaredPorts() {
    Container app = memberContainer();
    List<Probe> probes = List.of(app.getStartupProbe(), app.getReadinessProbe(),
        app.getLivenessProbe());
    assertThat(probes).doesNotContainNull().allSatisfy(probe -> {
      IntOrString port = probe.getHttpGet() != null ? probe.getHttpGet().getPort()
          : probe.getTcpSocket() != null ? probe.getTcpSocket().getPort() : null;
      assertThat(port).as("an httpGet or tcpSocket probe").isNotNull();
      assertThat(resolvePort(port)).isNotNull();
      if (probe.getHttpGet() != null && probe.getHttpGet().getPath().startsWith("/hazelcast/")) {
        assertThat(resolvePort(port)).isEqualTo(containerPort(HAZELCAST_PORT_NAME)
            .getContainerPort());
        assertThat(probe.getHttpGet().getPath()).startsWith("/hazelcast/health/");
      }
    });
    assertThat(app.getReadinessProbe().getHttpGet().getPath())
        .as("ready once the member has joined").isEqualTo("/hazelcast/health/ready");
  }

  @Test
  void thePodRunsWithoutAnApiTokenForDnsDiscovery() {
    assertThat(statefulSet.getSpec().getTemplate().getSpec().getAutomountServiceAccountToken())
        .isFalse();
  }

  // --- NetworkPolicy, Prometheus, PodDisruptionBudget ------------------------------------------

  @Test
  void theNetworkPolicyAdmitsTheMemberPortOnlyFromTheSameApp() {
    assertThat(podLabels())
        .containsAllEntriesOf(networkPolicy.getSpec().getPodSelector().getMatchLabels());
    assertThat(networkPolicy.getSpec().getPodSelector().getMatchLabels()).isNotEmpty();
    assertThat(networkPolicy.getSpec().getPolicyTypes()).contains("Ingress");
    int member = containerPort(HAZELCAST_PORT_NAME).getContainerPort();
    List<NetworkPolicyIngressRule> admitting = networkPolicy.getSpec().getIngress().stream()
        .filter(rule -> admitsPort(rule, member)).toList();
    assertThat(admitting).as("a rule lets the members reach each other").isNotEmpty();
    assertThat(admitting).allSatisfy(rule -> {
      assertThat(rule.getFrom()).as("a rule for port %d names its sources", member)
          .isNotEmpty();
      for (NetworkPolicyPeer peer : rule.getFrom()) {
        assertThat(peer.getNamespaceSelector()).as("same namespace only").isNull();
        assertThat(peer.getIpBlock()).isNull();
        assertThat(peer.getPodSelector().getMatchExpressions()).isNullOrEmpty();
        assertThat(peer.getPodSelector().getMatchLabels()).isNotEmpty();
        assertThat(podLabels()).containsAllEntriesOf(peer.getPodSelector().getMatchLabels());
      }
    });
  }

  @Test
  void prometheusScrapesADeclaredPortThatOnlyMonitoringMayReach() {
    Map<String, String> annotations = statefulSet.getSpec().getTemplate().getMetadata()
        .getAnnotations();
    assertThat(annotations).containsEntry("prometheus.io/scrape", "true")
        .containsKeys("prometheus.io/port", "prometheus.io/path");
    assertThat(annotations.get("prometheus.io/path")).startsWith("/");
    int port = Integer.parseInt(annotations.get("prometheus.io/port"));
    assertThat(memberContainer().getPorts()).extracting(ContainerPort::getContainerPort)
        .contains(port);
    List<NetworkPolicyIngressRule> admitting = networkPolicy.getSpec().getIngress().stream()
        .filter(rule -> admitsPort(rule, port)).toList();
    assertThat(admitting).isNotEmpty().allSatisfy(rule -> assertThat(rule.getFrom())
        .isNotEmpty().allSatisfy(peer -> {
          assertThat(peer.getPodSelector()).isNull();
          assertThat(peer.getIpBlock()).isNull();
          assertThat(peer.getNamespaceSelector().getMatchLabels())
              .containsExactly(Map.entry("kubernetes.io/metadata.name", "monitoring"));
        }));
  }

  @Test
  void thePodDisruptionBudgetLetsOneMemberGoAtATime() {
    assertThat(podDisruptionBudget.getSpec().getMinAvailable()).isNull();
    assertThat(podDisruptionBudget.getSpec().getMaxUnavailable()).isEqualTo(new IntOrString(1));
    LabelSelector selector = podDisruptionBudget.getSpec().getSelector();
    assertThat(selector.getMatchLabels()).isNotEmpty();
    assertThat(podLabels()).containsAllEntriesOf(selector.getMatchLabels());
  }

  // --- Helpers ---------------------------------------------------------------------------------

  /** The repository: {@code open.repo}, or the nearest directory above holding docs/operations. */
  static Path repoRoot() {
    String property = System.getProperty("open.repo");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("docs/operations"))) {
        return dir;
      }
    }
    throw new IllegalStateException("no docs/operations above " + Path.of("").toAbsolutePath()
        + "; set -Dopen.repo");
  }

  static List<Manifest> readAll() throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(DIR)) {
      files = list.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted().toList();
    }
    List<Manifest> all = new ArrayList<>();
    for (Path file : files) {
      try (MappingIterator<JsonNode> docs = STRICT.readerFor(JsonNode.class)
          .readValues(file.toFile())) {
        while (docs.hasNext()) {
          JsonNode doc = docs.next();
          if (doc != null && !doc.isNull() && !doc.isEmpty()) {
            all.add(new Manifest(file, doc));
          }
        }
      }
    }
    return all;
  }

  static <T> T parse(Manifest m, Class<T> type) {
    try {
      return STRICT.treeToValue(m.tree(), type);
    } catch (IOException e) {
      throw new AssertionError(m + " does not parse as " + type.getName() + ": "
          + e.getMessage(), e);
    }
  }

  static <T> T parseStrict(JsonNode node, Class<T> type) {
    try {
      return STRICT.treeToValue(node, type);
    } catch (IOException e) {
      throw new AssertionError(node + " does not parse as " + type.getName(), e);
    }
  }

  static <T> T only(Class<T> type) {
    List<HasMetadata> objects = typed.getOrDefault(type, List.of());
    assertThat(objects).as("%s manifests in %s", type.getSimpleName(), DIR).hasSize(1);
    return type.cast(objects.get(0));
  }

  static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  static String hazelcastYaml() {
    return configMap.getData().get("hazelcast.yaml");
  }

  static Config hazelcastConfig() {
    return hazelcast;
  }

  /** A property the configuration sets (not left to Hazelcast's default), in seconds. */
  static long seconds(Config config, HazelcastProperty property) {
    String value = config.getProperty(property.getName());
    assertThat(value).as("%s set in hazelcast.yaml", property.getName()).isNotNull();
    return Long.parseLong(value);
  }

  static Set<String> clusterPropertyNames() {
    Set<String> names = new TreeSet<>();
    for (Field field : ClusterProperty.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers())
          && HazelcastProperty.class.isAssignableFrom(field.getType())) {
        try {
          names.add(((HazelcastProperty) field.get(null)).getName());
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return names;
  }

  static Map<String, String> podLabels() {
    return statefulSet.getSpec().getTemplate().getMetadata().getLabels();
  }

  static Container memberContainer() {
    return statefulSet.getSpec().getTemplate().getSpec().getContainers().stream()
        .filter(c -> c.getName().equals(MEMBER_CONTAINER)).findFirst().orElseThrow();
  }

  static ContainerPort containerPort(String name) {
    return memberContainer().getPorts().stream().filter(p -> name.equals(p.getName()))
        .findFirst().orElseThrow(() -> new AssertionError("no container port " + name));
  }

  static String env(String name) {
    return memberContainer().getEnv().stream().filter(e -> e.getName().equals(name))
        .map(EnvVar::getValue).findFirst()
        .orElseThrow(() -> new AssertionError("no env " + name));
  }

  /** A port given by number or by name, as a declared container port's number, or null. */
  static Integer resolvePort(IntOrString port) {
    List<ContainerPort> declared = memberContainer().getPorts();
    if (port.getIntVal() != null) {
      return declared.stream().map(ContainerPort::getContainerPort)
          .filter(port.getIntVal()::equals).findFirst().orElse(null);
    }
    return declared.stream().filter(p -> port.getStrVal().equals(p.getName()))
        .map(ContainerPort::getContainerPort).findFirst().orElse(null);
  }

  /** Whether a rule admits TCP traffic to the port: a rule without ports admits every port. */
  static boolean admitsPort(NetworkPolicyIngressRule rule, int port) {
    if (rule.getPorts() == null || rule.getPorts().isEmpty()) {
      return true;
    }
    for (NetworkPolicyPort p : rule.getPorts()) {
      if (p.getProtocol() != null && !p.getProtocol().equals("TCP")) {
        continue;
      }
      if (p.getPort() == null) {
        return true;
      }
      Integer number = p.getPort().getIntVal() != null ? p.getPort().getIntVal()
          : resolvePort(p.getPort());
      int end = p.getEndPort() != null ? p.getEndPort() : number == null ? -1 : number;
      if (number != null && number <= port && port <= end) {
        return true;
      }
    }
    return false;
  }
}
