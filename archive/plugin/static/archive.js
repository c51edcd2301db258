// 整改档案: small additions to Datasette's pages (loaded in <head>, acts once the page is parsed).
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  collapseColumnDescriptions();
  addExcelCsvLinks();
  enableCopyButtons();
  fillStreamedCounts();
});

// The column descriptions of a table go into a <details>, shown on demand; each
// column heading gets its description as a tooltip.
function collapseColumnDescriptions() {
  const list = document.querySelector("dl.column-descriptions");
  if (!list) return;
  const details = document.createElement("details");
  details.className = "column-help";
  const summary = document.createElement("summary");
  summary.textContent = `What the ${list.querySelectorAll("dt").length} columns mean`;
  details.appendChild(summary);
  list.parentNode.insertBefore(details, list);
  details.appendChild(list);
  for (const term of list.querySelectorAll("dt")) {
    const description = term.nextElementSibling;
    const heading = document.querySelector(`th[data-column="${CSS.escape(term.textContent)}"]`);
    if (heading && description) heading.title = description.textContent;
  }
}

// Beside each CSV link: the same rows as CSV for Excel (UTF-8 with a byte-order
// mark, every row, downloaded), which Excel in a Chinese locale opens correctly.
function addExcelCsvLinks() {
  for (const csv of document.querySelectorAll(".export-links a")) {
    if (csv.textContent.trim() !== "CSV") continue;
    const url = new URL(csv.href, location.href);
    for (const [key, value] of [["_bom", "1"], ["_dl", "1"], ["_stream", "on"], ["_size", "max"]]) {
      url.searchParams.set(key, value);
    }
    const excel = document.createElement("a");
    excel.href = url.pathname + url.search;
    excel.className = "excel-csv";
    excel.textContent = "CSV for Excel";
    csv.after(document.createTextNode(", "), excel);
  }
}

// A search whose count the page did not wait for says "counting… exact count: <address>"
// (search_page.COUNTING) in its heading; /-/search's sections carry the address in
// data-count-url.  The count is fetched from there and put in its place.
function found(texts, pages) {
  const copies = pages !== texts ? ` (${pages.toLocaleString("en")} pages: republished copies marked, counted once)` : "";
  return `— ${texts.toLocaleString("en")} ${texts === 1 ? "text" : "texts"} found${copies}`;
}

function fillStreamedCounts() {
  const marker = /counting… exact count: (\S+?)(?=;|\)|\s|$)/;
  for (const element of document.querySelectorAll("[data-count-url], h3")) {
    const address = element.dataset.countUrl || (element.textContent.match(marker) || [])[1];
    if (!address) continue;
    fetch(address)
      .then((response) => response.json())
      .then((count) => {
        const said = count.said ? `${count.said}` : count.message || "no count";
        if (element.dataset.countUrl) {  // the words search.html uses for a count it has
          element.textContent = count.said ? found(count.texts, count.pages) : `— ${said}`;
          element.removeAttribute("data-count-url");
        } else {
          element.textContent = element.textContent.replace(marker, said);
        }
      })
      .catch(() => {
        element.textContent = element.textContent.replace(marker, "count not available now: reload the page");
        if (element.dataset.countUrl) element.textContent = "— count not available now: reload the page";
      });
  }
}

function enableCopyButtons() {
  for (const button of document.querySelectorAll("button[data-copy-target]")) {
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copyTarget);
      try {
        await navigator.clipboard.writeText(target.textContent);
        button.textContent = "Copied";
      } catch (error) {
        const range = document.createRange();
        range.selectNodeContents(target);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
  }
}

// A dashboard chart with no rows says so instead of drawing blank axes: vega-embed,
// loaded after this script, is wrapped as it defines itself.
if (location.pathname.includes("/-/dashboards")) {
  let embed;
  Object.defineProperty(window, "vegaEmbed", {
    configurable: true,
    get() { return embed; },
    set(original) {
      embed = (element, spec, ...rest) => {
        const values = spec && spec.data && spec.data.values;
        if (Array.isArray(values) && values.length === 0) {
          const message = document.createElement("p");
          message.className = "empty-chart";
          message.textContent = "Nothing to show yet: the archive holds no rows for this chart.";
          element.replaceChildren(message);
          return Promise.resolve();
        }
        return original(element, spec, ...rest);
      };
    },
  });
}
