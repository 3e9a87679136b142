// The finance page (/finance): collection rate by period and by building, arrears by age with the top debtors,
// money received by channel, the reconciliation days closed, and where the day's dunning reminders stand with the
// top of the work queue. The figures come from GraphQL; the charts are
// SVG drawn by the server (GET /reports/<project>/charts/<chart>.svg) and shown as images; every report also
// downloads as XLSX. Read with a FINANCE or ADMIN login.
"use strict";

(() => {
  const { Notice, escape, gql, loginForm, problem, token } = Courtyard;

  const t = Courtyard.texts({
    "zh-CN": {
      "page.title": "Courtyard · 财务看板",
      "page.heading": "财务看板",
      "login.title": "财务人员登录",
      "project.choose": "选择项目",
      "asOf.label": "截至",
      "notFinance": "此账号不是任何项目的财务人员或管理员。",
      "export": "导出 Excel",
      "exporting": "正在导出…",
      "definition": "口径说明",
      "collection.title": "收缴率",
      "collection.chartAlt": "各账期的本期收缴率和清欠率柱状图",
      "collection.none": "所选期间还没有账单。",
      "building.title": "各楼栋收缴率",
      "building.period": "各楼栋收缴率（{period}）",
      "building.chartAlt": "各楼栋本期收缴率条形图",
      "ageing.title": "欠费账龄",
      "ageing.chartAlt": "各账龄区间欠费金额柱状图",
      "ageing.summary": "欠费合计 {total}，共 {units} 户；未到期应收 {notYetDue}。",
      "ageing.topDebtors": "欠费最多的住户",
      "ageing.nobody": "没有欠费。",
      "income.title": "实收（按支付渠道）",
      "income.chartAlt": "各月各支付渠道实收金额堆叠柱状图",
      "income.total": "合计",
      "income.revenue": "同期计费收入",
      "reconciliation.title": "对账",
      "reconciliation.noAccounts": "尚未设置对账账户。",
      "reconciliation.summary": "待处理的对账差异 {open} 条。",
      "reconciliation.notClosed": "近 7 天未结账",
      "col.period": "账期",
      "col.receivable": "本期应收",
      "col.collected": "本期实收",
      "col.currentRate": "收缴率",
      "col.arrearsAtStart": "期初往期欠费",
      "col.recovered": "本期清欠",
      "col.recoveryRate": "清欠率",
      "col.building": "楼栋",
      "col.unit": "房号",
      "col.debtor": "欠费人",
      "col.bills": "欠费账单",
      "col.oldestDue": "最早到期日",
      "col.arrears": "欠费",
      "col.channel": "支付渠道",
      "col.amount": "金额",
      "col.account": "账户",
      "col.lastClosed": "最近结账日",
      "col.matched": "已对平笔数",
      "col.openExceptions": "待处理差异",
      "col.closingBalance": "日终余额",
      "dunning.title": "今日催缴",
      "dunning.chartAlt": "各催缴级别提醒的发送状态堆叠柱状图",
      "dunning.summary": "{day} 的催缴：提醒 {notices} 条；待跟进住户 {accounts} 户。",
      "dunning.never": "尚未运行过催缴；待跟进住户 {accounts} 户。",
      "dunning.queue": "优先跟进（逾期天数 × 欠费金额）",
      "dunning.nobody": "没有需要跟进的住户。",
      "col.level": "级别",
      "col.messageChannel": "发送渠道",
      "col.sent": "已发送",
      "col.queued": "排队中",
      "col.throttled": "暂缓",
      "col.failed": "失败",
      "col.other": "其他",
      "col.daysOverdue": "逾期天数",
      "col.lastLevel": "最近提醒",
      "channel.none": "未发出",
      "channel.IN_APP": "站内信",
      "channel.EMAIL": "邮件",
      "channel.SMS": "短信",
      "channel.WECHAT": "微信",
      "unit": "{building} {number}",
      "none": "—",
    },
    en: {
      "page.title": "Courtyard · Finance",
      "page.heading": "Finance",
      "login.title": "Finance log in",
      "project.choose": "Choose the project",
      "asOf.label": "As of",
      "notFinance": "This account is not finance staff or an admin of any project.",
      "export": "Export to Excel",
      "exporting": "Exporting…",
      "definition": "Definitions",
      "collection.title": "Collection rate",
      "collection.chartAlt": "Bars of each period's current-period and arrears-recovery rates",
      "collection.none": "No bills in the chosen periods yet.",
      "building.title": "Collection rate by building",
      "building.period": "Collection rate by building ({period})",
      "building.chartAlt": "Bars of each building's current-period rate",
      "ageing.title": "Arrears by age",
      "ageing.chartAlt": "Bars of the arrears in each age bucket",
      "ageing.summary": "{total} in arrears over {units} units; {notYetDue} open but not yet due.",
      "ageing.topDebtors": "Units owing most",
      "ageing.nobody": "Nobody is in arrears.",
      "income.title": "Money received by channel",
      "income.chartAlt": "Stacked bars of each month's money received per channel",
      "income.total": "Total",
      "income.revenue": "Revenue over the same months",
      "reconciliation.title": "Reconciliation",
      "reconciliation.noAccounts": "No statement accounts are set up yet.",
      "reconciliation.summary": "{open} reconciliation differences to resolve.",
      "reconciliation.notClosed": "not closed in the last 7 days",
      "col.period": "Period",
      "col.receivable": "Receivable",
      "col.collected": "Collected",
      "col.currentRate": "Rate",
      "col.arrearsAtStart": "Arrears at start",
      "col.recovered": "Recovered",
      "col.recoveryRate": "Recovery",
      "col.building": "Building",
      "col.unit": "Unit",
      "col.debtor": "Debtor",
      "col.bills": "Bills",
      "col.oldestDue": "Oldest due",
      "col.arrears": "Arrears",
      "col.channel": "Channel",
      "col.amount": "Amount",
      "col.account": "Account",
      "col.lastClosed": "Last closed",
      "col.matched": "Matched",
      "col.openExceptions": "Open differences",
      "col.closingBalance": "Closing balance",
      "dunning.title": "Dunning today",
      "dunning.chartAlt": "Stacked bars of each dunning level's reminders by where they stand",
      "dunning.summary": "Dunning of {day}: {notices} reminders; {accounts} accounts to chase.",
      "dunning.never": "No dunning pass has run yet; {accounts} accounts to chase.",
      "dunning.queue": "Chase first (days overdue × amount)",
      "dunning.nobody": "Nobody to chase.",
      "col.level": "Level",
      "col.messageChannel": "Sent by",
      "col.sent": "Sent",
      "col.queued": "Queued",
      "col.throttled": "Held",
      "col.failed": "Failed",
      "col.other": "Other",
      "col.daysOverdue": "Days overdue",
      "col.lastLevel": "Last reminder",
      "channel.none": "not sent",
      "channel.IN_APP": "In-app",
      "channel.EMAIL": "E-mail",
      "channel.SMS": "SMS",
      "channel.WECHAT": "WeChat",
      "unit": "{building} {number}",
      "none": "—",
    },
  });

  const $ = (selector) => document.querySelector(selector);
  const LANGUAGE = Courtyard.locale === "en" ? "EN" : "ZH_CN";
  const MONTHS_SHOWN = 12;
  const INCOME_MONTHS = 6;
  const CLOSES_DAYS = 7;
  const QUEUE_SHOWN = 5;
  // The groups of outbox statuses the dunning chart stacks (billing/reports/charts.py: REMINDER_GROUPS).
  const REMINDER_GROUPS = { SENT: "sent", DELIVERED: "sent", QUEUED: "queued", THROTTLED: "throttled", FAILED: "failed" };

  const VIEWER = `{ viewer { roles { role project { id name timezone } } } }`;
  const REPORTS = `query Finance($p: ID!, $from: String!, $to: String!, $asOf: Date!, $incomeFrom: Date!, $closesFrom: Date!,
                                    $language: Locale!, $queued: Int!) {
    collectionRate(projectId: $p, from: $from, to: $to, asOf: $asOf) {
      exportUrl definition(language: $language)
      totals { period receivable collected currentRate arrearsAtStart arrearsRecovered recoveryRate }
      byBuilding { period buildingName receivable collected currentRate }
    }
    arrearsAgeing(projectId: $p, asOf: $asOf, top: 10) {
      exportUrl definition(language: $language) notYetDue unitsInArrears
      total { total }
      topDebtors { buildingName number debtor bills oldestDueDate arrears { total } }
    }
    incomeReport(projectId: $p, from: $incomeFrom, to: $asOf, granularity: MONTH) {
      exportUrl definition(language: $language) totalReceived totalRevenue
      receivedByChannel { key name(language: $language) amount }
    }
    statementAccounts(projectId: $p) { id name }
    dailyCloses(projectId: $p, from: $closesFrom, to: $asOf) {
      account { id } day matchedCount openExceptionCount closingBalance
    }
    reconciliationExceptions(projectId: $p, filter: { status: OPEN }, first: 1) { totalCount }
    dunningDay(projectId: $p) { day notices counts { level channel status count } }
    dunningWorkQueue(projectId: $p, first: $queued) {
      totalCount
      edges { node { amountOverdue daysOverdue unit { number building { name } } owner { name } history { level } } }
    }
  }`;

  const state = { projects: [], project: null, exports: {}, images: new Map() };

  // --- figures as people read them -------------------------------------------------------------------

  // "-12345.6" → "-¥12,345.60": formatted from the API's decimal string, never through a float.
  function money(text) {
    const negative = text.startsWith("-");
    const [whole, fraction = ""] = text.replace("-", "").split(".");
    return `${negative ? "-" : ""}¥${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${fraction.padEnd(2, "0").slice(0, 2)}`;
  }

  // "0.7784" → "77.84%"; rates carry four decimals, so two after the point as a percentage are exact.
  function percent(rate) {
    if (rate == null) return t("none");
    const [whole, fraction = ""] = rate.split(".");
    const digits = `${whole}${fraction.padEnd(4, "0")}`.replace(/^(-?)0+(?=\d{3})/, "$1");
    return `${digits.slice(0, -2)}.${digits.slice(-2)}%`;
  }

  function today(timeZone) {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  }

  // The month `offset` months from the month of `day` ("2026-11-30", -2 → "2026-09").
  function month(day, offset) {
    const [year, monthNumber] = day.split("-").map(Number);
    const index = year * 12 + monthNumber - 1 + offset;
    return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
  }

  function daysBefore(day, count) {
    const date = new Date(`${day}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() - count);
    return date.toISOString().slice(0, 10);
  }

  function projectNumber(globalId) {
    return atob(globalId).split(":")[1];
  }

  // --- the API outside GraphQL: charts and exports with the bearer token ------------------------------

  async function download(url) {
    let response;
    try {
      response = await fetch(url, { headers: { Authorization: `Bearer ${token()}` } });
    } catch {
      throw Object.assign(new Error("The server cannot be reached."), { codes: ["NETWORK"] });
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw Object.assign(new Error((body.error || {}).message || response.statusText), { codes: [(body.error || {}).code] });
    }
    return response;
  }

  async function showChart(id, chart, parameters) {
    const compact = window.matchMedia("(max-width: 600px)").matches ? { compact: "1" } : {};
    const query = new URLSearchParams({ ...parameters, ...compact, lang: Courtyard.locale });
    const response = await download(`/reports/${projectNumber(state.project.id)}/charts/${chart}.svg?${query}`);
    const image = document.getElementById(id);
    const previous = state.images.get(id);
    const address = URL.createObjectURL(await response.blob());
    state.images.set(id, address);
    image.src = address;
    if (previous) URL.revokeObjectURL(previous);
  }

  async function exportReport(button) {
    const url = state.exports[button.dataset.report];
    if (!url) return;
    const label = button.textContent;
    button.disabled = true;
    button.textContent = t("exporting");
    try {
      const response = await download(url);
      const name = /filename="?([^";]+)"?/.exec(response.headers.get("content-disposition") || "");
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = name ? name[1] : `${button.dataset.report}.xlsx`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      showError(problem(error));
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  // --- panels -------------------------------------------------------------------------------------------

  function rows(selector, html) {
    $(`${selector} tbody`).innerHTML = html.join("");
  }

  function billedPeriods(totals) {
    const billed = totals.filter((line) => Number(line.receivable) !== 0 || Number(line.arrearsAtStart) !== 0);
    return billed.length ? [billed[0].period, billed[billed.length - 1].period] : null;
  }

  function renderCollection(report) {
    state.exports.collection = report.exportUrl;
    $("#collection-definition").textContent = report.definition;
    const span = billedPeriods(report.totals);
    if (!span) {
      rows("#collection-table", [`<tr><td colspan="7">${escape(t("collection.none"))}</td></tr>`]);
      return null;
    }
    const shown = report.totals.filter((line) => line.period >= span[0] && line.period <= span[1]);
    rows("#collection-table", shown.map((line) => `<tr data-period="${escape(line.period)}">
      <th scope="row">${escape(line.period)}</th><td>${money(line.receivable)}</td><td>${money(line.collected)}</td>
      <td class="rate">${percent(line.currentRate)}</td><td>${money(line.arrearsAtStart)}</td>
      <td>${money(line.arrearsRecovered)}</td><td class="rate">${percent(line.recoveryRate)}</td></tr>`));
    const withCharges = shown.filter((line) => Number(line.receivable) > 0);
    const latest = withCharges.length ? withCharges[withCharges.length - 1].period : span[1];
    $("#building-title").textContent = t("building.period", { period: latest });
    rows("#building-table", report.byBuilding.filter((line) => line.period === latest).map((line) => `<tr>
      <th scope="row">${escape(line.buildingName)}</th><td>${money(line.receivable)}</td><td>${money(line.collected)}</td>
      <td class="rate">${percent(line.currentRate)}</td></tr>`));
    return { span, latest };
  }

  function renderAgeing(report) {
    state.exports.ageing = report.exportUrl;
    $("#ageing-definition").textContent = report.definition;
    $("#ageing-summary").textContent = t("ageing.summary", {
      total: money(report.total.total), units: report.unitsInArrears, notYetDue: money(report.notYetDue),
    });
    rows("#debtors-table", report.topDebtors.length
      ? report.topDebtors.map((unit) => `<tr>
          <th scope="row">${escape(t("unit", { building: unit.buildingName, number: unit.number }))}</th>
          <td>${escape(unit.debtor || t("none"))}</td><td>${unit.bills}</td><td>${escape(unit.oldestDueDate)}</td>
          <td>${money(unit.arrears.total)}</td></tr>`)
      : [`<tr><td colspan="5">${escape(t("ageing.nobody"))}</td></tr>`]);
  }

  function renderIncome(report) {
    state.exports.income = report.exportUrl;
    $("#income-definition").textContent = report.definition;
    rows("#income-table", [
      ...report.receivedByChannel.map((line) => `<tr><th scope="row">${escape(line.name)}</th><td>${money(line.amount)}</td></tr>`),
      `<tr class="total"><th scope="row">${escape(t("income.total"))}</th><td>${money(report.totalReceived)}</td></tr>`,
      `<tr><th scope="row">${escape(t("income.revenue"))}</th><td>${money(report.totalRevenue)}</td></tr>`,
    ]);
  }

  function renderReconciliation(accounts, closes, openExceptions) {
    if (!accounts.length) {
      $("#reconciliation-summary").textContent = t("reconciliation.noAccounts");
      $("#reconciliation-table").hidden = true;
      return;
    }
    $("#reconciliation-table").hidden = false;
    $("#reconciliation-summary").textContent = t("reconciliation.summary", { open: openExceptions });
    const latest = new Map();
    for (const close of closes) {
      const known = latest.get(close.account.id);
      if (!known || close.day > known.day) latest.set(close.account.id, close);
    }
    rows("#reconciliation-table", accounts.map((account) => {
      const close = latest.get(account.id);
      return close
        ? `<tr><th scope="row">${escape(account.name)}</th><td>${escape(close.day)}</td><td>${close.matchedCount}</td>
            <td>${close.openExceptionCount}</td><td>${money(close.closingBalance)}</td></tr>`
        : `<tr><th scope="row">${escape(account.name)}</th><td colspan="4">${escape(t("reconciliation.notClosed"))}</td></tr>`;
    }));
  }

  function renderDunning(day, queue) {
    $("#dunning-summary").textContent = day.day
      ? t("dunning.summary", { day: day.day, notices: day.notices, accounts: queue.totalCount })
      : t("dunning.never", { accounts: queue.totalCount });
    const lines = new Map();
    for (const count of day.counts) {
      const key = `${count.level}\u0000${count.channel || ""}`;
      const line = lines.get(key) || { level: count.level, channel: count.channel, sent: 0, queued: 0, throttled: 0, failed: 0, other: 0 };
      line[REMINDER_GROUPS[count.status] || "other"] += count.count;
      lines.set(key, line);
    }
    rows("#dunning-table", [...lines.values()].map((line) => `<tr><th scope="row">${escape(line.level)}</th>
      <td>${escape(t(line.channel ? `channel.${line.channel}` : "channel.none"))}</td><td>${line.sent}</td>
      <td>${line.queued}</td><td>${line.throttled}</td><td>${line.failed}</td><td>${line.other}</td></tr>`));
    rows("#queue-table", queue.edges.length
      ? queue.edges.map(({ node }) => `<tr>
          <th scope="row">${escape(t("unit", { building: node.unit.building.name, number: node.unit.number }))}</th>
          <td>${escape(node.owner.name)}</td><td>${node.daysOverdue}</td><td>${money(node.amountOverdue)}</td>
          <td>${escape(node.history.length ? node.history[0].level : t("none"))}</td></tr>`)
      : [`<tr><td colspan="5">${escape(t("dunning.nobody"))}</td></tr>`]);
  }

  // --- loading ----------------------------------------------------------------------------------------

  function showError(message) {
    const box = $("#page-error");
    box.textContent = message;
    box.hidden = !message;
  }

  async function load() {
    showError("");
    const asOf = $("#as-of").value;
    const to = month(asOf, 0);
    const from = month(asOf, 1 - MONTHS_SHOWN);
    const incomeFrom = `${month(asOf, 1 - INCOME_MONTHS)}-01`;
    const data = await gql(REPORTS, {
      p: state.project.id, from, to, asOf, incomeFrom, closesFrom: daysBefore(asOf, CLOSES_DAYS), language: LANGUAGE,
      queued: QUEUE_SHOWN,
    });
    const collection = renderCollection(data.collectionRate);
    renderAgeing(data.arrearsAgeing);
    renderIncome(data.incomeReport);
    renderReconciliation(data.statementAccounts, data.dailyCloses, data.reconciliationExceptions.totalCount);
    renderDunning(data.dunningDay, data.dunningWorkQueue);
    $("#finance").hidden = false;
    const span = collection ? collection.span : [from, to];
    const latest = collection ? collection.latest : to;
    await Promise.all([
      showChart("chart-collection-by-month", "collection-by-month", { from: span[0], to: span[1], asOf }),
      showChart("chart-collection-by-building", "collection-by-building", { from: latest, to: latest, asOf }),
      showChart("chart-ageing", "ageing", { asOf }),
      showChart("chart-income-by-channel", "income-by-channel", { from: incomeFrom, to: asOf, granularity: "MONTH" }),
      showChart("chart-dunning", "dunning", {}),
    ]);
    document.body.dataset.loaded = asOf;
  }

  function reload() {
    delete document.body.dataset.loaded;
    load().catch((error) => showError(problem(error)));
  }

  function choose(project) {
    state.project = project;
    $("#project-name").textContent = project.name;
    const asOf = $("#as-of");
    asOf.max = today(project.timezone);
    asOf.value = asOf.max;
  }

  async function start() {
    const { viewer } = await gql(VIEWER);
    const seen = new Set();
    state.projects = viewer.roles
      .filter((grant) => grant.role === "FINANCE" || grant.role === "ADMIN")
      .map((grant) => grant.project)
      .filter((project) => !seen.has(project.id) && seen.add(project.id));
    if (!state.projects.length) {
      // Back to the login form, which says why, for another account.
      Courtyard.forget();
      $("#login").hidden = false;
      throw new Notice(t("notFinance"));
    }
    const picker = $("#project");
    picker.innerHTML = state.projects.map((p) => `<option value="${escape(p.id)}">${escape(p.name)}</option>`).join("");
    picker.hidden = state.projects.length < 2;
    picker.addEventListener("change", () => {
      choose(state.projects.find((p) => p.id === picker.value));
      reload();
    });
    $("#as-of").addEventListener("change", () => {
      if ($("#as-of").checkValidity()) reload();
    });
    for (const button of document.querySelectorAll("button.export")) {
      button.addEventListener("click", () => exportReport(button));
    }
    $("#controls").hidden = false;
    choose(state.projects[0]);
    await load();
  }

  Courtyard.translatePage(t);
  loginForm($("#login"), start);
})();
