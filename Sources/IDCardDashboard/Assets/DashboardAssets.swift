/// The dashboard's one script and one stylesheet, served by the process itself (no build step,
/// no CDN): the Content-Security-Policy allows scripts and styles from this origin only.
enum DashboardAssets {
    /// Keeps the numbers of `/` and `/queues/{queue}` current without a reload (polling the JSON
    /// API every 2 s), computes the rate budget in use from successive readings, and draws the
    /// last hour from `/api/queues/{queue}/history` every 10 s. Text only through `textContent`.
    static let script = #"""
        "use strict";
        (function () {
          const body = document.body;
          const live = body.dataset.live;
          if (!live) return;
          const svgNS = "http://www.w3.org/2000/svg";

          function setStats(root, text) {
            for (const [key, value] of Object.entries(text)) {
              root.querySelectorAll('[data-stat="' + key + '"]').forEach(function (element) {
                element.textContent = value;
              });
            }
          }

          async function getJSON(url) {
            const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
            if (response.status === 401) { window.location.assign("/login"); throw new Error("signed out"); }
            if (!response.ok) throw new Error(url + ": " + response.status);
            return response.json();
          }

          function every(milliseconds, step) {
            const run = function () {
              step().catch(function () {}).finally(function () { setTimeout(run, milliseconds); });
            };
            setTimeout(run, milliseconds);
          }

          if (live === "overview") {
            every(2000, async function () {
              const answer = await getJSON("/api/overview");
              for (const queue of answer.queues) {
                const row = document.querySelector('tr[data-queue="' + CSS.escape(queue.queue) + '"]');
                if (row) setStats(row, queue.text);
              }
            });
            return;
          }

          const queue = body.dataset.queue;
          const base = "/api/queues/" + encodeURIComponent(queue);
          let previous = null;
          every(2000, async function () {
            const stats = await getJSON(base + "/stats");
            const now = Date.now();
            if (previous && stats.rateReserved !== undefined && previous.rateReserved !== undefined) {
              const perSecond = (stats.rateReserved - previous.rateReserved) / ((now - previous.at) / 1000);
              let text = perSecond.toFixed(2) + "/s";
              if (stats.rateConfigured) {
                text += " (" + Math.round(100 * perSecond / stats.rateConfigured) + " % of the limit)";
              }
              stats.text["rate-in-use"] = text;
            }
            previous = { at: now, rateReserved: stats.rateReserved };
            const state = document.getElementById("queue-state");
            if (state) state.classList.toggle("paused", stats.paused);
            setStats(document, stats.text);
          });

          function draw(svg, series, samples, t0, t1) {
            while (svg.firstChild) svg.removeChild(svg.firstChild);
            const width = 600, height = 160, top = 14, bottom = 146;
            let most = 1;
            for (const s of series) for (const point of s.points) most = Math.max(most, point[1]);
            const x = function (t) { return Math.max(0, Math.min(width, (t - t0) / (t1 - t0) * width)); };
            const y = function (v) { return bottom - v / most * (bottom - top); };
            const axis = document.createElementNS(svgNS, "line");
            axis.setAttribute("x1", "0"); axis.setAttribute("x2", String(width));
            axis.setAttribute("y1", String(bottom)); axis.setAttribute("y2", String(bottom));
            axis.setAttribute("class", "axis");
            svg.appendChild(axis);
            for (const [label, at, anchor] of [["60 min ago", 2, "start"], ["now", width - 2, "end"]]) {
              const text = document.createElementNS(svgNS, "text");
              text.setAttribute("x", String(at));
              text.setAttribute("y", "158");
              text.setAttribute("text-anchor", anchor);
              text.textContent = label;
              svg.appendChild(text);
            }
            const scale = document.createElementNS(svgNS, "text");
            scale.setAttribute("x", "2"); scale.setAttribute("y", "11");
            scale.textContent = "max " + (Number.isInteger(most) ? most : most.toFixed(1));
            svg.appendChild(scale);
            for (const s of series) {
              if (s.points.length === 0) continue;
              const line = document.createElementNS(svgNS, "polyline");
              const points = s.points.map(function (p) { return x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1); });
              line.setAttribute("points", points.join(" "));
              line.setAttribute("class", "series " + s.name);
              svg.appendChild(line);
            }
          }

          async function chart() {
            const answer = await getJSON(base + "/history");
            const samples = answer.samples;
            const t1 = samples.length ? samples[samples.length - 1].t : Date.now();
            const t0 = t1 - 3600 * 1000;
            const depths = ["pending", "processing", "delayed", "dead"].map(function (name) {
              return { name: name, points: samples.map(function (s) { return [s.t, s[name]]; }) };
            });
            const rates = ["succeeded", "failed", "retried"].map(function (name) {
              const points = [];
              for (let i = 1; i < samples.length; i++) {
                const minutes = (samples[i].t - samples[i - 1].t) / 60000;
                const ended = Math.max(0, samples[i][name] - samples[i - 1][name]);
                if (minutes > 0) points.push([samples[i].t, ended / minutes]);
              }
              return { name: name, points: points };
            });
            const depthChart = document.getElementById("history-chart");
            const rateChart = document.getElementById("rate-chart");
            if (depthChart) draw(depthChart, depths, samples, t0, t1);
            if (rateChart) draw(rateChart, rates, samples, t0, t1);
          }
          chart().catch(function () {});
          every(10000, chart);
        })();
        """#

    static let stylesheet = """
        :root { --fg: #1d2433; --muted: #5b6478; --line: #d8dce5; --bg: #f6f7fa; --accent: #2456c7; --bad: #b3261e; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", sans-serif;
          color: var(--fg); background: var(--bg); }
        header { display: flex; align-items: center; gap: 1rem; padding: .6rem 1.2rem;
          background: #1d2433; color: #fff; }
        header a.brand { color: #fff; font-weight: 600; text-decoration: none; margin-right: auto; }
        header form { display: inline; margin: 0; }
        main { padding: 1rem 1.2rem 2rem; max-width: 1200px; }
        h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
        h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
        a { color: var(--accent); }
        table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-weight: 600; color: var(--muted); background: #eef0f5; }
        td.message { max-width: 28rem; overflow-wrap: anywhere; }
        .stats { display: flex; flex-wrap: wrap; gap: .6rem; margin: .6rem 0; }
        .stat { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem .8rem;
          min-width: 9rem; }
        .stat .label { display: block; color: var(--muted); font-size: .8rem; }
        .stat .value { font-size: 1.25rem; font-weight: 600; }
        .stat a { display: block; font-size: .8rem; }
        .state { font-size: .8rem; padding: .1rem .5rem; border-radius: 1rem; background: #d9f2e0;
          vertical-align: middle; }
        .state.paused { background: #fde2b8; }
        #pause-note, .note { color: var(--muted); font-size: .85rem; font-weight: normal; }
        #flash { margin: .8rem 1.2rem 0; padding: .5rem .8rem; background: #e3ecff;
          border-left: 4px solid var(--accent); }
        .error { color: var(--bad); }
        form { margin: .4rem 0; }
        form#login { display: grid; gap: .6rem; max-width: 20rem; }
        input, select, button { font: inherit; padding: .25rem .5rem; }
        button { border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
        button.danger { border-color: var(--bad); color: var(--bad); }
        form.reveal { display: inline; margin-left: .6rem; }
        form.reveal button { font-size: .75rem; padding: 0 .4rem; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; background: #fff;
          border: 1px solid var(--line); padding: .6rem .8rem; margin: .4rem 0; }
        dt { color: var(--muted); }
        dd { margin: 0; }
        dd.revealed { background: #fff4d6; }
        #job-status { font-weight: 600; }
        .status-succeeded { color: #1d7a3a; }
        .status-failed { color: var(--bad); }
        figure { margin: .4rem 0 1rem; }
        svg.chart { width: 100%; max-width: 720px; height: auto; aspect-ratio: 600 / 160; background: #fff;
          border: 1px solid var(--line); }
        svg.chart text { font-size: 10px; fill: var(--muted); }
        svg.chart .axis { stroke: var(--line); }
        .series { fill: none; stroke-width: 1.6; }
        .series.pending, .key.pending::before { stroke: #2456c7; background: #2456c7; }
        .series.processing, .key.processing::before { stroke: #1d7a3a; background: #1d7a3a; }
        .series.delayed, .key.delayed::before { stroke: #c77c02; background: #c77c02; }
        .series.dead, .key.dead::before { stroke: #b3261e; background: #b3261e; }
        .series.succeeded, .key.succeeded::before { stroke: #1d7a3a; background: #1d7a3a; }
        .series.failed, .key.failed::before { stroke: #b3261e; background: #b3261e; }
        .series.retried, .key.retried::before { stroke: #c77c02; background: #c77c02; }
        .key::before { content: ""; display: inline-block; width: .8rem; height: .2rem; margin-right: .3rem;
          vertical-align: middle; }
        figcaption { color: var(--muted); font-size: .85rem; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        .paging a { margin-right: .8rem; }
        """
}
