package dev.netherite.management;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), the checks promtool's
 * linter makes of its syntax: every line is a HELP, a TYPE or a sample; names and labels are
 * well-formed, label values correctly escaped; every sample belongs to a family whose TYPE came
 * before it, TYPE and HELP at most once per family; histogram buckets are cumulative and end with
 * {@code le="+Inf"} equal to {@code _count}. The Prometheus Java client has writers but no parser.
 */
final class PrometheusText {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)( -?[0-9]+)?");

  record Sample(String name, Map<String, String> labels, double value) {}

  final Map<String, String> types = new LinkedHashMap<>();
  final List<Sample> samples = new ArrayList<>();

  static PrometheusText parse(String text) {
    PrometheusText p = new PrometheusText();
    Map<String, String> help = new HashMap<>();
    int lineNumber = 0;
    for (String line : text.split("\n", -1)) {
      lineNumber++;
      if (line.isEmpty()) {
        continue;
      }
      String at = "line " + lineNumber + ": " + line;
      if (line.startsWith("# HELP ")) {
        String[] parts = line.split(" ", 4);
        require(parts.length >= 3 && NAME.matcher(parts[2]).matches(), "bad HELP, " + at);
        require(help.put(parts[2], parts.length > 3 ? parts[3] : "") == null, "second HELP, " + at);
      } else if (line.startsWith("# TYPE ")) {
        String[] parts = line.split(" ");
        require(parts.length == 4 && NAME.matcher(parts[2]).matches(), "bad TYPE, " + at);
        require(
            List.of("counter", "gauge", "histogram", "summary", "untyped").contains(parts[3]),
            "unknown type, " + at);
        require(p.types.put(parts[2], parts[3]) == null, "second TYPE, " + at);
      } else if (line.startsWith("#")) {
        continue; // a comment
      } else {
        Matcher m = SAMPLE.matcher(line);
        require(m.matches(), "not a sample, " + at);
        String name = m.group(1);
        Map<String, String> labels = m.group(3) == null ? Map.of() : labels(m.group(3), at);
        double value = value(m.group(4), at);
        String family = familyOf(name, p.types);
        require(family != null, "sample of a family without TYPE before it, " + at);
        p.samples.add(new Sample(name, labels, value));
      }
    }
    p.checkHistograms();
    return p;
  }

  private static String familyOf(String name, Map<String, String> types) {
    if (types.containsKey(name)) {
      return name;
    }
    for (String suffix : List.of("_total", "_count", "_sum", "_bucket", "_created")) {
      if (name.endsWith(suffix)) {
        String base = name.substring(0, name.length() - suffix.length());
        if (types.containsKey(base)) {
          return base;
        }
      }
    }
    return null;
  }

  private static Map<String, String> labels(String text, String at) {
    Map<String, String> labels = new LinkedHashMap<>();
    int i = 0;
    while (i < text.length()) {
      int eq = text.indexOf('=', i);
      require(eq > i, "bad label, " + at);
      String name = text.substring(i, eq);
      require(LABEL.matcher(name).matches(), "bad label name '" + name + "', " + at);
      require(eq + 1 < text.length() && text.charAt(eq + 1) == '"', "unquoted label value, " + at);
      StringBuilder value = new StringBuilder();
      int j = eq + 2;
      for (; j < text.length() && text.charAt(j) != '"'; j++) {
        char c = text.charAt(j);
        if (c == '\\') {
          require(j + 1 < text.length(), "dangling escape, " + at);
          char e = text.charAt(++j);
          require(e == '\\' || e == '"' || e == 'n', "bad escape \\" + e + ", " + at);
          value.append(e == 'n' ? '\n' : e);
        } else {
          value.append(c);
        }
      }
      require(j < text.length(), "unterminated label value, " + at);
      require(labels.put(name, value.toString()) == null, "label twice, " + at);
      i = j + 1;
      if (i < text.length()) {
        require(text.charAt(i) == ',', "labels not separated by commas, " + at);
        i++;
      }
    }
    return labels;
  }

  private static double value(String text, String at) {
    return switch (text) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> {
        try {
          yield Double.parseDouble(text);
        } catch (NumberFormatException e) {
          throw new AssertionError("bad value, " + at);
        }
      }
    };
  }

  private void checkHistograms() {
    types.forEach(
        (family, type) -> {
          if (!type.equals("histogram")) {
            return;
          }
          Map<Map<String, String>, List<Sample>> bySeries = new LinkedHashMap<>();
          for (Sample s : samples) {
            if (s.name().equals(family + "_bucket")) {
              Map<String, String> series = new LinkedHashMap<>(s.labels());
              series.remove("le");
              bySeries.computeIfAbsent(series, k -> new ArrayList<>()).add(s);
            }
          }
          require(!bySeries.isEmpty(), "histogram without buckets: " + family);
          bySeries.forEach(
              (series, buckets) -> {
                double last = -1;
                double lastLe = Double.NEGATIVE_INFINITY;
                for (Sample b : buckets) {
                  double le = value(b.labels().get("le"), family);
                  require(le > lastLe, "buckets out of order: " + family);
                  require(b.value() >= last, "buckets not cumulative: " + family);
                  last = b.value();
                  lastLe = le;
                }
                require(lastLe == Double.POSITIVE_INFINITY, "no +Inf bucket: " + family);
                require(last == value(family + "_count", series), "+Inf != _count: " + family);
              });
        });
  }

  /** The value of the one sample with this name and these labels (exactly). */
  double value(String name, Map<String, String> labels) {
    List<Sample> found =
        samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels)).toList();
    require(found.size() == 1, "expected one sample " + name + labels + ", found " + found);
    return found.get(0).value();
  }

  double value(String name) {
    return value(name, Map.of());
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new AssertionError("Not Prometheus text format: " + message);
    }
  }
}
