package dev.netherite.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.management.ManagementTestKit.Api;
import dev.netherite.runtime.DurableRuntime;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in headless Chromium (Debian's chromium and chromium-driver, driven by Selenium;
 * bin/test installs them): instances started from the API show up and complete on the page, an
 * instance's history opens, a waiting instance is terminated from the page, and the node's
 * partitions are listed. With {@code -Dnetherite.dashboard.screenshot=FILE} it also saves a
 * screenshot of the page (docs/dashboard.png is one).
 */
@Timeout(240)
class DashboardBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private static DurableRuntime runtime;
  private static NetheriteManagement management;
  private static WebDriver browser;
  private static Path profile;

  @BeforeAll
  static void start() throws IOException {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      throw new IllegalStateException(
          "The browser tests need Debian's chromium and chromium-driver (/usr/bin/chromium,"
              + " /usr/bin/chromedriver): apt-get install -y chromium chromium-driver (bin/test does).");
    }
    runtime =
        DurableRuntime.start(
            ManagementTestKit.app(),
            ManagementTestKit.config("mgmt-browser", Map.of("netherite.management.port", 18504)));
    management = NetheriteManagement.start(runtime);
    profile = Files.createTempDirectory("netherite-chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1400,1100",
        "--user-data-dir=" + profile);
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
    browser = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stop() throws IOException {
    if (browser != null) {
      browser.quit();
    }
    if (management != null) {
      management.close();
    }
    if (runtime != null) {
      runtime.close();
    }
    if (profile != null) {
      try (var files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }

  /**
   * Waits for a condition on the page. The page redraws its tables as it polls the API, so an
   * element read while it is replaced is stale: the condition is then tried again.
   */
  private static WebDriverWait waiting() {
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
    wait.ignoring(StaleElementReferenceException.class);
    return wait;
  }

  private static String text(String id) {
    return browser.findElement(By.id(id)).getText();
  }

  @Test
  void operatesInstancesAndShowsThePartitions() throws IOException {
    Api api = new Api(management.uri(), null);
    browser.get(management.uri().toString());

    // The node's partitions, all running on this node.
    waiting()
        .until(
            d -> {
              List<WebElement> rows = d.findElements(By.cssSelector("#partitions tbody tr"));
              return rows.size() == 4
                  && rows.stream().allMatch(r -> r.getText().contains("running"));
            });
    assertTrue(text("nodes").contains("(this node)"), text("nodes"));
    assertTrue(text("nodes").contains("0, 1, 2, 3"), text("nodes"));

    // A Hello5 started from the API completes on the instances page.
    api.post("/api/instances", "{\"name\": \"Hello5\", \"instanceId\": \"browser-hello\"}")
        .expect(201);
    By helloRow = By.cssSelector("#instances tr[data-instance='browser-hello']");
    waiting()
        .until(
            d ->
                d.findElements(helloRow).stream().anyMatch(r -> r.getText().contains("COMPLETED")));

    // Its history opens.
    browser.findElement(helloRow).findElement(By.className("instance-link")).click();
    waiting().until(d -> text("detail-status").equals("COMPLETED"));
    waiting().until(d -> text("history").contains("TaskScheduled"));
    long scheduled =
        browser.findElements(By.cssSelector("#history tbody tr")).stream()
            .filter(r -> r.getText().contains("TaskScheduled"))
            .count();
    assertEquals(5, scheduled, text("history"));
    assertTrue(text("detail-output").contains("Hello Tokyo!"), text("detail-output"));
    assertTrue(text("history").contains("ExecutionCompleted"), text("history"));

    // A waiting instance started from the page is terminated from the page.
    new Select(browser.findElement(By.id("start-name"))).selectByValue("Waiter");
    browser.findElement(By.id("start-input")).sendKeys("\"from the page\"");
    browser.findElement(By.id("start-id")).sendKeys("browser-waiter");
    browser.findElement(By.id("start-button")).click();
    waiting().until(d -> text("message").contains("Started Waiter as browser-waiter"));
    waiting()
        .until(
            d ->
                text("detail-id").equals("browser-waiter")
                    && text("detail-status").equals("RUNNING"));
    assertTrue(text("detail-custom").contains("waiting for Approval"), text("detail-custom"));
    if (System.getProperty("netherite.dashboard.screenshot") != null) {
      Path target = Path.of(System.getProperty("netherite.dashboard.screenshot"));
      Files.createDirectories(target.toAbsolutePath().getParent());
      Files.copy(
          ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE).toPath(),
          target,
          StandardCopyOption.REPLACE_EXISTING);
    }
    browser.findElement(By.id("terminate")).click();
    waiting().until(d -> text("detail-status").equals("TERMINATED"));
    assertEquals(
        "TERMINATED",
        api.get("/api/instances/browser-waiter").expect(200).json().get("runtimeStatus").asText());
    waiting()
        .until(
            d ->
                d
                    .findElements(By.cssSelector("#instances tr[data-instance='browser-waiter']"))
                    .stream()
                    .anyMatch(r -> r.getText().contains("TERMINATED")));

    // Purged from the page, it is gone.
    browser.findElement(By.id("purge")).click();
    waiting().until(d -> text("message").contains("Purged browser-waiter"));
    api.get("/api/instances/browser-waiter").error(404);

    // Entities signaled through the API are listed (filtered by type and key prefix); one opens.
    api.post("/api/entities/Counter/browser-a/signals/add", "4").expect(202);
    api.post("/api/entities/Counter/browser-b/signals/add", "6").expect(202);
    api.post("/api/entities/Counter/elsewhere/signals/add", "1").expect(202);
    new Select(browser.findElement(By.id("entities-name"))).selectByValue("Counter");
    browser.findElement(By.id("entities-prefix")).sendKeys("browser-");
    browser.findElement(By.cssSelector("#entities-form button[type='submit']")).click();
    By rowB = By.cssSelector("#entities tr[data-entity='@Counter@browser-b']");
    waiting()
        .until(
            d ->
                d.findElements(By.cssSelector("#entities tbody tr")).size() == 2
                    && d.findElements(rowB).stream().anyMatch(r -> r.getText().contains("6")));
    assertTrue(text("entities").contains("browser-a"), text("entities"));
    assertFalse(text("entities").contains("elsewhere"), text("entities"));
    browser.findElement(rowB).findElement(By.className("entity-link")).click();
    waiting().until(d -> text("entity").contains("@Counter@browser-b"));
  }
}
