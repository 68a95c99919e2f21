"use strict";

(() => {
  const KEY_STORAGE = "vividly.apiKey";
  const IDLE_TIMEOUT_MS = 60000;
  const MAX_BACKOFF_MS = 15000;
  const TERMINAL = new Set(["completed", "failed", "cancelled"]);
  const STREAM_STOPS = new Set([...TERMINAL, "clarification_needed"]);

  const STAGE_LABELS = {
    pending: "Queued",
    validating: "Checking the question",
    retrieving: "Finding sources",
    generating_script: "Writing the script",
    generating_video: "Narrating and drawing scenes",
    processing_video: "Assembling the video",
    notifying: "Finishing up",
    completed: "Completed",
    clarification_needed: "Waiting for your answer",
    failed: "Failed",
    cancelled: "Cancelled",
  };

  const STATUS_KIND = {
    completed: "completed",
    failed: "failed",
    cancelled: "cancelled",
    clarification_needed: "waiting",
  };

  const SHORT_LABELS = {
    pending: "Queued",
    clarification_needed: "Needs an answer",
    completed: "Completed",
    failed: "Failed",
    cancelled: "Cancelled",
  };

  const FILE_LABELS = {
    "video.mp4": "Video (MP4)",
    "captions.vtt": "Captions (WebVTT)",
    "captions.srt": "Captions (SRT)",
    "transcript.txt": "Transcript",
    "thumbnail.jpg": "Thumbnail (JPEG)",
    "script.json": "Script (JSON)",
    "manifest.json": "Manifest (JSON)",
  };

  const FIELD_INPUTS = {
    student_query: "question",
    grade_level: "grade",
    duration_minutes: "minutes",
  };

  const $ = (id) => document.getElementById(id);

  const els = {
    authWarning: $("auth-warning"),
    apiKeyField: $("api-key-field"),
    apiKey: $("api-key"),
    streamNote: $("stream-note"),
    form: $("request-form"),
    question: $("question"),
    grade: $("grade"),
    minutes: $("minutes"),
    submit: $("submit"),
    formError: $("form-error"),
    recent: $("recent"),
    recentEmpty: $("recent-empty"),
    recentRefresh: $("recent-refresh"),
    request: $("request"),
    placeholder: $("placeholder"),
    requestQuery: $("request-query"),
    stage: $("stage"),
    percent: $("percent"),
    progress: $("progress"),
    scenes: $("scenes"),
    lastMessage: $("last-message"),
    notice: $("notice"),
    cancel: $("cancel"),
    clarify: $("clarify"),
    clarifyQuestions: $("clarify-questions"),
    clarifyForm: $("clarify-form"),
    answer: $("answer"),
    answerError: $("answer-error"),
    answerSubmit: $("answer-submit"),
    error: $("error"),
    errorStage: $("error-stage"),
    errorMessage: $("error-message"),
    errorCode: $("error-code"),
    errorId: $("error-id"),
    result: $("result"),
    resultTitle: $("result-title"),
    player: $("player"),
    chapters: $("chapters"),
    downloads: $("downloads"),
  };

  const state = {
    authRequired: true,
    current: null,
    liveStream: null, // the StreamPlayer of the current request while it renders
    nextToken: 0,
    recentTimer: 0,
  };

  /* ---------- helpers ---------- */

  class ApiError extends Error {
    constructor(status, problem, retryAfterMs) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.name = "ApiError";
      this.status = status;
      this.problem = problem || {};
      this.retryAfterMs = retryAfterMs;
    }
  }

  class StreamDropped extends Error {
    constructor(reason) {
      super(reason);
      this.name = "StreamDropped";
    }
  }

  function stageLabel(status) {
    if (!status) return "";
    return STAGE_LABELS[status] || status.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  }

  function statusKind(status) {
    return STATUS_KIND[status] || (status ? "running" : "");
  }

  function apiKey() {
    return (els.apiKey.value || "").trim();
  }

  function authHeaders() {
    const key = apiKey();
    return state.authRequired && key ? { Authorization: `Bearer ${key}` } : {};
  }

  function retryAfterMs(response) {
    const header = response.headers.get("Retry-After");
    if (!header) return undefined;
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(header);
    return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
  }

  async function readJson(response) {
    const text = await response.text();
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }

  async function api(path, { method = "GET", body, signal } = {}) {
    const headers = { Accept: "application/json, application/problem+json", ...authHeaders() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: "no-store",
      });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError(0, null);
    }
    const data = await readJson(response);
    if (!response.ok) throw new ApiError(response.status, data, retryAfterMs(response));
    return data;
  }

  function describeError(err) {
    const status = err instanceof ApiError ? err.status : 0;
    const problem = err instanceof ApiError ? err.problem : {};
    const detail = typeof problem.detail === "string" && problem.detail ? problem.detail : "";
    const wait = err.retryAfterMs ? ` Try again in ${Math.ceil(err.retryAfterMs / 1000)} s.` : "";
    switch (status) {
      case 0:
        return {
          title: "Cannot reach the service",
          detail: "Check your connection and try again.",
        };
      case 401:
        return {
          title: "Not signed in",
          detail: detail || "The API key is missing or was not accepted. Check the API key field.",
        };
      case 403:
        return { title: "Not allowed", detail: detail || "This API key may not do that." };
      case 404:
        return { title: "Not found", detail: detail || "That request does not exist." };
      case 422:
        return { title: "Please check the form", detail: detail || "Some fields are not valid." };
      case 429:
        return {
          title: "Too many requests",
          detail: (detail || "The request limit was reached.") + wait,
        };
      case 503:
        return {
          title: "Service unavailable",
          detail: (detail || "The service is busy or starting up.") + (wait || " Try again shortly."),
        };
      default:
        return {
          title: problem.title || `Error ${status}`,
          detail: detail || "Something went wrong on the server. Try again.",
        };
    }
  }

  function isRetryable(err) {
    if (err instanceof StreamDropped) return true;
    if (!(err instanceof ApiError)) return false;
    return err.status === 0 || err.status === 429 || err.status >= 500;
  }

  function backoffMs(attempt, err) {
    if (err && err.retryAfterMs !== undefined) return Math.min(err.retryAfterMs, 60000);
    return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempt, 4));
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function formatTime(totalSeconds) {
    const s = Math.max(0, Math.floor(Number(totalSeconds) || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
  }

  function formatWhen(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return "";
    return date.toLocaleString(undefined, {
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  function videoPath(id, suffix = "") {
    return `/v1/videos/${encodeURIComponent(id)}${suffix}`;
  }

  /* ---------- server-sent events ---------- */

  class SseParser {
    constructor(onMessage) {
      this.onMessage = onMessage;
      this.decoder = new TextDecoder();
      this.buffer = "";
      this.skipLineFeed = false;
      this.lastId = undefined;
      this.retry = undefined;
      this.resetEvent();
    }

    resetEvent() {
      this.eventType = "";
      this.data = [];
    }

    push(bytes) {
      this.feed(this.decoder.decode(bytes, { stream: true }));
    }

    finish() {
      this.feed(this.decoder.decode());
    }

    feed(text) {
      if (!text) return;
      if (this.skipLineFeed && text[0] === "\n") text = text.slice(1);
      this.skipLineFeed = false;
      this.buffer += text;
      const breaks = /\r\n|\r|\n/g;
      let start = 0;
      let match;
      while ((match = breaks.exec(this.buffer)) !== null) {
        this.line(this.buffer.slice(start, match.index));
        start = match.index + match[0].length;
        if (match[0] === "\r" && start === this.buffer.length) this.skipLineFeed = true;
      }
      this.buffer = this.buffer.slice(start);
    }

    line(line) {
      if (line === "") {
        this.dispatch();
        return;
      }
      if (line[0] === ":") return;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value[0] === " ") value = value.slice(1);
      if (field === "event") this.eventType = value;
      else if (field === "data") this.data.push(value);
      else if (field === "id" && !value.includes("\0")) this.lastId = value;
      else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
    }

    dispatch() {
      const message = {
        id: this.lastId,
        event: this.eventType || "message",
        data: this.data.length ? this.data.join("\n") : null,
      };
      this.resetEvent();
      this.onMessage(message);
    }
  }

  /* ---------- following one request ---------- */

  function isCurrent(cur) {
    return state.current === cur;
  }

  function stopFollowing() {
    const cur = state.current;
    if (cur && cur.controller) cur.controller.abort();
  }

  async function streamEvents(cur) {
    const controller = new AbortController();
    cur.controller = controller;
    let idle = false;
    let timer = 0;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        controller.abort();
      }, IDLE_TIMEOUT_MS);
    };
    const headers = { Accept: "text/event-stream", ...authHeaders() };
    if (cur.lastEventId !== undefined && cur.lastEventId !== "") {
      headers["Last-Event-ID"] = cur.lastEventId;
    }
    try {
      arm();
      const response = await fetch(cur.eventsUrl, {
        headers,
        signal: controller.signal,
        cache: "no-store",
      });
      if (!response.ok) {
        throw new ApiError(response.status, await readJson(response), retryAfterMs(response));
      }
      if (!response.body) throw new StreamDropped("the response has no body");
      hideNotice();
      const parser = new SseParser((message) => onSseMessage(cur, message));
      const reader = response.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        parser.push(value);
        if (!isCurrent(cur)) {
          controller.abort();
          return;
        }
      }
      parser.finish();
      if (parser.retry !== undefined) cur.retryMs = parser.retry;
    } catch (err) {
      if (idle) throw new StreamDropped("no data for a while");
      if (err && err.name === "AbortError") throw err;
      if (err instanceof ApiError || err instanceof StreamDropped) throw err;
      throw new StreamDropped(String(err));
    } finally {
      clearTimeout(timer);
      if (cur.controller === controller) cur.controller = null;
    }
  }

  function onSseMessage(cur, message) {
    if (!isCurrent(cur)) return;
    if (message.id !== undefined) cur.lastEventId = message.id;
    if (message.data === null) return;
    let payload;
    try {
      payload = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!payload || typeof payload !== "object") return;
    if (typeof payload.sequence === "number") {
      if (payload.sequence <= cur.lastSequence) return;
      cur.lastSequence = payload.sequence;
    }
    applyEvent(cur, payload);
  }

  function applyEvent(cur, payload) {
    if (typeof payload.status === "string" && payload.status) {
      const changed = payload.status !== cur.status;
      showStatus(cur, payload.status);
      if (changed) scheduleRecentRefresh();
    }
    if (typeof payload.progress_percentage === "number") setProgress(payload.progress_percentage);
    if (!STREAM_STOPS.has(cur.status)) {
      patchRecent(cur.id, { status: cur.status, progress_percentage: Number(els.progress.value) });
    }
    const details = payload.details && typeof payload.details === "object" ? payload.details : {};
    // The first published piece (a whole scene, or the first part of one) is enough to start.
    const playable = [details.stream_parts, details.stream_scenes].some((n) => Number.isFinite(n) && n > 0);
    if (playable && !cur.streamUrl) {
      watchWhileRendering(cur);
    }
    if (Number.isFinite(details.scenes_done) && Number.isFinite(details.scenes_total)) {
      setScenes(details.scenes_done, details.scenes_total);
    } else if (typeof payload.message === "string") {
      const match = /\bscenes?\s+(\d+)\s*\/\s*(\d+)/i.exec(payload.message);
      if (match) setScenes(Number(match[1]), Number(match[2]));
    }
    if (typeof payload.message === "string" && payload.message) {
      els.lastMessage.textContent = payload.message;
    }
  }

  async function follow(cur) {
    if (cur.following) return;
    cur.following = true;
    try {
      let attempt = 0;
      let quietEnds = 0;
      while (isCurrent(cur)) {
        const seenBefore = cur.lastSequence;
        try {
          await streamEvents(cur);
          attempt = 0;
        } catch (err) {
          if (!isCurrent(cur) || (err && err.name === "AbortError")) return;
          if (!isRetryable(err)) {
            showProblemNotice(err);
            return;
          }
          const wait = backoffMs(attempt++, err);
          const why = err instanceof ApiError ? `${describeError(err).title}.` : "Connection lost.";
          showNotice(`${why} Reconnecting in ${Math.ceil(wait / 1000)} s…`);
          await sleep(wait);
          continue;
        }
        if (!isCurrent(cur)) return;
        const record = await loadRecord(cur);
        if (!record || !isCurrent(cur)) return;
        await renderRecord(cur, record);
        if (STREAM_STOPS.has(record.status)) return;
        quietEnds = cur.lastSequence > seenBefore ? 0 : quietEnds + 1;
        await sleep(quietEnds ? backoffMs(quietEnds - 1) : cur.retryMs || 1000);
      }
    } finally {
      cur.following = false;
    }
  }

  async function loadRecord(cur) {
    let attempt = 0;
    while (isCurrent(cur)) {
      try {
        const record = await api(videoPath(cur.id));
        hideNotice();
        return record;
      } catch (err) {
        if (!isCurrent(cur)) return null;
        if (!isRetryable(err)) {
          showProblemNotice(err);
          return null;
        }
        const wait = backoffMs(attempt++, err);
        showNotice(`${describeError(err).detail} Retrying in ${Math.ceil(wait / 1000)} s…`);
        await sleep(wait);
      }
    }
    return null;
  }

  /* ---------- rendering one request ---------- */

  function setBodyStatus(status) {
    document.body.dataset.status = status || "";
  }

  function showStatus(cur, status) {
    cur.status = status;
    els.stage.textContent = stageLabel(status);
    els.stage.dataset.kind = statusKind(status);
    els.cancel.hidden = TERMINAL.has(status);
    if (!STREAM_STOPS.has(status)) {
      setBodyStatus(status);
      els.clarify.hidden = true;
    }
  }

  function setProgress(value) {
    const pct = Math.max(0, Math.min(100, Math.round(Number(value) || 0)));
    els.progress.value = pct;
    els.progress.textContent = `${pct}%`;
    els.percent.textContent = `${pct}%`;
  }

  function setScenes(done, total) {
    els.scenes.textContent = total > 0 ? `Scenes ${done}/${total}` : "Scenes —";
  }

  function hideNotice() {
    els.notice.hidden = true;
    els.notice.textContent = "";
  }

  function showNotice(text) {
    els.notice.textContent = text;
    els.notice.hidden = false;
  }

  function showProblemNotice(err) {
    const { title, detail } = describeError(err);
    showNotice(`${title}: ${detail}`);
  }

  function resetRequestView() {
    hideNotice();
    els.request.hidden = false;
    els.placeholder.hidden = true;
    els.requestQuery.textContent = "";
    els.lastMessage.textContent = "";
    els.clarify.hidden = true;
    els.clarifyQuestions.replaceChildren();
    els.answer.value = "";
    hideFieldError(els.answer, els.answerError);
    els.error.hidden = true;
    els.result.hidden = true;
    els.cancel.disabled = false;
    els.cancel.textContent = "Cancel";
    clearPlayer();
    setProgress(0);
    setScenes(0, 0);
    setBodyStatus("");
  }

  /* ---------- watching while it renders ---------- */

  async function watchWhileRendering(cur, url) {
    if (cur.streamUrl || cur.playerFor === cur.id || !window.VividlyStream) return;
    cur.streamUrl = "pending";
    let link = url;
    if (!link) {
      try {
        const record = await api(videoPath(cur.id));
        link = record && record.stream;
      } catch (err) {
        link = null;
      }
    }
    if (!isCurrent(cur) || cur.playerFor === cur.id || !link) {
      cur.streamUrl = null;
      return;
    }
    cur.streamUrl = link;
    const player = new window.VividlyStream.StreamPlayer(els.player, link);
    if (!player.start()) return;
    state.liveStream = player;
    document.body.dataset.stream = "live";
    els.resultTitle.textContent = (cur.record && cur.record.title) || els.requestQuery.textContent || "Your video";
    els.streamNote.hidden = false;
    els.result.hidden = false;
  }

  function stopStream() {
    const player = state.liveStream;
    state.liveStream = null;
    if (player) player.stop();
    els.streamNote.hidden = true;
    delete document.body.dataset.stream;
    return player;
  }

  function clearPlayer() {
    stopStream();
    const video = els.player;
    video.pause();
    video.removeAttribute("src");
    video.removeAttribute("poster");
    video.replaceChildren();
    video.load();
    els.chapters.replaceChildren();
    els.downloads.replaceChildren();
  }

  async function renderRecord(cur, record) {
    if (!isCurrent(cur)) return;
    const previous = cur.renderedStatus;
    cur.record = record;
    if (record.student_query) els.requestQuery.textContent = record.student_query;
    showStatus(cur, record.status);
    setProgress(record.progress_percentage);
    if (record.scenes) setScenes(record.scenes.done || 0, record.scenes.total || 0);

    const waiting = record.status === "clarification_needed";
    els.clarify.hidden = !waiting;
    if (waiting) renderClarification(record, previous !== "clarification_needed");

    els.error.hidden = record.status !== "failed";
    if (record.status === "failed") renderFailure(record.error);

    if (record.status === "completed") {
      await renderResult(cur, record);
      if (!isCurrent(cur)) return;
    } else if (TERMINAL.has(record.status)) {
      stopStream();
      els.result.hidden = true;
    } else {
      if (record.stream) watchWhileRendering(cur, record.stream);
      els.result.hidden = !state.liveStream;
    }

    if (record.status === "cancelled") showNotice("This request was cancelled.");
    cur.renderedStatus = record.status;
    patchRecent(cur.id, {
      status: record.status,
      progress_percentage: record.progress_percentage,
      title: record.title || null,
    });
    setBodyStatus(record.status);
    if (STREAM_STOPS.has(record.status)) scheduleRecentRefresh();
  }

  function renderClarification(record, focus) {
    const questions = Array.isArray(record.clarifying_questions) ? record.clarifying_questions : [];
    els.clarifyQuestions.replaceChildren(
      ...questions.map((q) => {
        const li = document.createElement("li");
        li.textContent = q;
        return li;
      }),
    );
    if (focus) els.answer.focus({ preventScroll: false });
  }

  function renderFailure(error) {
    const e = error || {};
    els.errorStage.textContent = e.stage ? stageLabel(e.stage) : "Unknown";
    els.errorMessage.textContent = e.message || "No message was given.";
    els.errorCode.textContent = e.code || "—";
    els.errorId.textContent = e.error_id || "—";
  }

  async function renderResult(cur, record) {
    const files = record.files || {};
    els.resultTitle.textContent = record.title || record.student_query || "Your video";
    els.result.hidden = false;
    if (cur.playerFor === record.id) return;
    cur.playerFor = record.id;

    const video = els.player;
    // The finished MP4 takes over from the stream at the same moment of the video.
    const streamed = stopStream();
    const resume = streamed ? { time: video.currentTime, playing: !video.paused } : null;
    video.replaceChildren();
    if (files["thumbnail.jpg"]) video.poster = files["thumbnail.jpg"];
    if (files["captions.vtt"]) {
      const track = document.createElement("track");
      track.kind = "captions";
      track.srclang = "en";
      track.label = "English";
      track.default = true;
      track.src = files["captions.vtt"];
      const show = () => {
        if (track.track) track.track.mode = "showing";
      };
      track.addEventListener("load", show);
      video.addEventListener("loadedmetadata", show, { once: true });
      video.append(track);
      show();
    }
    if (files["video.mp4"]) {
      if (resume) {
        video.addEventListener(
          "loadedmetadata",
          () => {
            video.currentTime = resume.time;
            if (resume.playing) video.play().catch(() => {});
          },
          { once: true },
        );
      }
      video.src = files["video.mp4"];
    }

    renderDownloads(files);
    await renderChapters(cur, files["manifest.json"]);
  }

  function renderDownloads(files) {
    const names = Object.keys(files);
    const ordered = [
      ...Object.keys(FILE_LABELS).filter((n) => names.includes(n)),
      ...names.filter((n) => !(n in FILE_LABELS)),
    ];
    els.downloads.replaceChildren(
      ...ordered.map((name) => {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = files[name];
        a.setAttribute("download", name);
        a.dataset.file = name;
        const label = document.createElement("span");
        label.textContent = FILE_LABELS[name] || name;
        const file = document.createElement("span");
        file.className = "file-name";
        file.textContent = name;
        a.append(label, file);
        li.append(a);
        return li;
      }),
    );
  }

  async function renderChapters(cur, manifestUrl) {
    const empty = (text) => {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = text;
      els.chapters.replaceChildren(li);
    };
    if (!manifestUrl) {
      empty("No chapters for this video.");
      return;
    }
    let chapters = [];
    try {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 15000);
      const response = await fetch(manifestUrl, { signal: controller.signal, cache: "no-store" });
      clearTimeout(timer);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const manifest = await response.json();
      chapters = Array.isArray(manifest.chapters) ? manifest.chapters : [];
    } catch {
      if (isCurrent(cur)) empty("Chapters could not be loaded.");
      return;
    }
    if (!isCurrent(cur)) return;
    if (!chapters.length) {
      empty("No chapters for this video.");
      return;
    }
    els.chapters.replaceChildren(
      ...chapters.map((chapter, index) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "chapter";
        button.dataset.start = String(chapter.start);
        button.dataset.end = String(chapter.end);
        const time = document.createElement("span");
        time.className = "chapter-time";
        time.textContent = formatTime(chapter.start);
        const title = document.createElement("span");
        title.className = "chapter-title";
        title.textContent = chapter.title || `Chapter ${index + 1}`;
        button.append(time, title);
        button.setAttribute("aria-label", `Play from ${formatTime(chapter.start)}: ${title.textContent}`);
        button.addEventListener("click", () => {
          els.player.currentTime = Number(chapter.start) || 0;
          els.player.play().catch(() => {});
        });
        li.append(button);
        return li;
      }),
    );
    markCurrentChapter();
  }

  function markCurrentChapter() {
    const t = els.player.currentTime;
    for (const button of els.chapters.querySelectorAll("button.chapter")) {
      const start = Number(button.dataset.start);
      const end = Number(button.dataset.end);
      button.setAttribute("aria-current", t >= start && t < end ? "true" : "false");
    }
  }

  /* ---------- opening requests ---------- */

  function newCurrent(id, eventsUrl) {
    stopFollowing();
    const cur = {
      id,
      token: ++state.nextToken,
      eventsUrl: eventsUrl || videoPath(id, "/events"),
      lastEventId: undefined,
      lastSequence: -1,
      status: "",
      renderedStatus: "",
      record: null,
      controller: null,
      following: false,
      playerFor: null,
      streamUrl: null,
      retryMs: 0,
    };
    state.current = cur;
    document.body.dataset.requestId = id;
    const hash = `#request=${encodeURIComponent(id)}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
    resetRequestView();
    markRecentCurrent();
    return cur;
  }

  function startCreated(created, query) {
    const cur = newCurrent(created.id, created.links && created.links.events);
    els.requestQuery.textContent = query;
    showStatus(cur, created.status || "pending");
    follow(cur);
    revealRequest();
  }

  async function openExisting(id) {
    const cur = newCurrent(id);
    showStatus(cur, "");
    els.stage.textContent = "Loading…";
    const record = await loadRecord(cur);
    if (!record || !isCurrent(cur)) return;
    await renderRecord(cur, record);
    if (!STREAM_STOPS.has(record.status)) follow(cur);
  }

  function revealRequest() {
    if (!window.matchMedia("(max-width: 899px)").matches) return;
    const rect = els.request.getBoundingClientRect();
    if (rect.top > window.innerHeight * 0.8 || rect.bottom < 0) {
      els.request.scrollIntoView({ block: "start" });
    }
  }

  /* ---------- the form ---------- */

  function showFieldError(input, holder, message) {
    holder.textContent = message;
    holder.hidden = false;
    input.setAttribute("aria-invalid", "true");
  }

  function hideFieldError(input, holder) {
    holder.textContent = "";
    holder.hidden = true;
    input.removeAttribute("aria-invalid");
  }

  function clearFormErrors() {
    for (const inputId of Object.values(FIELD_INPUTS)) {
      hideFieldError($(inputId), $(`${inputId}-error`));
    }
    els.apiKey.removeAttribute("aria-invalid");
    els.formError.hidden = true;
    els.formError.replaceChildren();
  }

  function showFormProblem(title, detail, extra = []) {
    const strong = document.createElement("strong");
    strong.textContent = title;
    const nodes = [strong];
    if (detail) {
      const p = document.createElement("p");
      p.textContent = detail;
      nodes.push(p);
    }
    if (extra.length) {
      const ul = document.createElement("ul");
      for (const text of extra) {
        const li = document.createElement("li");
        li.textContent = text;
        ul.append(li);
      }
      nodes.push(ul);
    }
    els.formError.replaceChildren(...nodes);
    els.formError.hidden = false;
  }

  function fieldName(field) {
    const parts = String(field || "").split(/[./]/).filter(Boolean);
    return parts.length ? parts[parts.length - 1] : "";
  }

  function showApiProblem(err) {
    const { title, detail } = describeError(err);
    const unplaced = [];
    let first = null;
    const errors = err instanceof ApiError && Array.isArray(err.problem.errors) ? err.problem.errors : [];
    for (const item of errors) {
      const inputId = FIELD_INPUTS[fieldName(item && item.field)];
      const message = (item && item.message) || "Not valid.";
      if (inputId) {
        const holder = $(`${inputId}-error`);
        const text = holder.hidden ? message : `${holder.textContent} ${message}`;
        showFieldError($(inputId), holder, text);
        first = first || $(inputId);
      } else {
        unplaced.push(item && item.field ? `${item.field}: ${message}` : message);
      }
    }
    showFormProblem(title, detail, unplaced);
    if (err instanceof ApiError && err.status === 401 && state.authRequired) {
      els.apiKey.setAttribute("aria-invalid", "true");
      els.apiKey.focus();
    } else if (first) {
      first.focus();
    }
  }

  function validateForm() {
    let ok = true;
    let first = null;
    const query = els.question.value.trim();
    if (query.length < 3 || query.length > 500) {
      showFieldError(els.question, $("question-error"), "Enter a question of 3 to 500 characters.");
      first = first || els.question;
      ok = false;
    }
    const minutes = Number(els.minutes.value);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 10) {
      showFieldError(els.minutes, $("minutes-error"), "Choose a whole number from 1 to 10.");
      first = first || els.minutes;
      ok = false;
    }
    if (state.authRequired && !apiKey()) {
      els.apiKey.setAttribute("aria-invalid", "true");
      showFormProblem("API key needed", "Enter your API key to make a video.");
      first = first || els.apiKey;
      ok = false;
    }
    if (first) first.focus();
    return ok ? { student_query: query, grade_level: els.grade.value, duration_minutes: minutes } : null;
  }

  async function onSubmit(event) {
    event.preventDefault();
    clearFormErrors();
    const body = validateForm();
    if (!body) return;
    els.submit.disabled = true;
    els.submit.textContent = "Sending…";
    try {
      const created = await api("/v1/videos", { method: "POST", body });
      startCreated(created, body.student_query);
      scheduleRecentRefresh(0);
    } catch (err) {
      showApiProblem(err);
    } finally {
      els.submit.disabled = false;
      els.submit.textContent = "Make the video";
    }
  }

  async function onAnswer(event) {
    event.preventDefault();
    const cur = state.current;
    if (!cur) return;
    hideFieldError(els.answer, els.answerError);
    const answer = els.answer.value.trim();
    if (!answer) {
      showFieldError(els.answer, els.answerError, "Type an answer first.");
      els.answer.focus();
      return;
    }
    els.answerSubmit.disabled = true;
    els.answerSubmit.textContent = "Sending…";
    try {
      const response = await api(videoPath(cur.id, "/clarification"), {
        method: "POST",
        body: { answer },
      });
      if (!isCurrent(cur)) return;
      els.answer.value = "";
      els.clarify.hidden = true;
      const status = (response && response.status) || "validating";
      if (STREAM_STOPS.has(status)) {
        const record = await loadRecord(cur);
        if (record) await renderRecord(cur, record);
      } else {
        showStatus(cur, status);
        follow(cur);
      }
      scheduleRecentRefresh(0);
    } catch (err) {
      const { title, detail } = describeError(err);
      const fields = err instanceof ApiError && Array.isArray(err.problem.errors) ? err.problem.errors : [];
      const extra = fields.map((f) => f && f.message).filter(Boolean).join(" ");
      showFieldError(els.answer, els.answerError, `${title}: ${[detail, extra].filter(Boolean).join(" ")}`);
    } finally {
      els.answerSubmit.disabled = false;
      els.answerSubmit.textContent = "Send answer";
    }
  }

  async function onCancel() {
    const cur = state.current;
    if (!cur) return;
    els.cancel.disabled = true;
    els.cancel.textContent = "Cancelling…";
    try {
      await api(videoPath(cur.id, "/cancel"), { method: "POST" });
      if (!isCurrent(cur)) return;
      showNotice("Cancelling…");
      if (!cur.following) await settleAfterCancel(cur);
    } catch (err) {
      if (!isCurrent(cur)) return;
      showProblemNotice(err);
      els.cancel.disabled = false;
      els.cancel.textContent = "Cancel";
      const record = await loadRecord(cur);
      if (record) await renderRecord(cur, record);
    }
  }

  async function settleAfterCancel(cur) {
    for (let i = 0; i < 20 && isCurrent(cur); i += 1) {
      const record = await loadRecord(cur);
      if (!record || !isCurrent(cur)) return;
      if (TERMINAL.has(record.status)) {
        await renderRecord(cur, record);
        return;
      }
      if (!STREAM_STOPS.has(record.status)) {
        await renderRecord(cur, record);
        follow(cur);
        return;
      }
      await sleep(1000);
    }
  }

  /* ---------- recent requests ---------- */

  function scheduleRecentRefresh(delay = 400) {
    clearTimeout(state.recentTimer);
    state.recentTimer = setTimeout(refreshRecent, delay);
  }

  async function refreshRecent() {
    if (state.authRequired && !apiKey()) {
      els.recent.replaceChildren();
      els.recentEmpty.textContent = "Enter your API key to see recent requests.";
      els.recentEmpty.hidden = false;
      return;
    }
    let data;
    try {
      data = await api("/v1/videos?limit=10");
    } catch (err) {
      const { title, detail } = describeError(err);
      els.recentEmpty.textContent = `${title}: ${detail}`;
      els.recentEmpty.hidden = false;
      return;
    }
    const items = data && Array.isArray(data.items) ? data.items : [];
    els.recentEmpty.textContent = "No requests yet.";
    els.recentEmpty.hidden = items.length > 0;
    els.recent.replaceChildren(...items.map(recentItem));
    markRecentCurrent();
  }

  function recentItem(item) {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "recent-item";
    const title = document.createElement("span");
    title.className = "recent-title";
    const pill = document.createElement("span");
    pill.className = "pill";
    const meta = document.createElement("span");
    meta.className = "recent-meta";
    button.append(title, pill, meta);
    button.addEventListener("click", () => openExisting(item.id));
    li.append(button);
    li.item = { ...item };
    paintRecentItem(li);
    return li;
  }

  function paintRecentItem(li) {
    const item = li.item;
    li.dataset.status = item.status;
    const title = li.querySelector(".recent-title");
    title.textContent = item.title || item.student_query || item.id;
    title.title = item.student_query || "";
    const pill = li.querySelector(".pill");
    pill.dataset.kind = statusKind(item.status);
    pill.textContent = SHORT_LABELS[item.status] || (item.status ? "In progress" : "");
    const parts = [formatWhen(item.created_at)];
    if (item.title && item.student_query) parts.push(`“${item.student_query}”`);
    if (!TERMINAL.has(item.status) && typeof item.progress_percentage === "number") {
      parts.push(`${item.progress_percentage}%`);
    }
    li.querySelector(".recent-meta").textContent = parts.filter(Boolean).join(" · ");
  }

  function patchRecent(id, changes) {
    for (const li of els.recent.children) {
      if (li.dataset.id === id && li.item) {
        Object.assign(li.item, changes);
        paintRecentItem(li);
      }
    }
  }

  function markRecentCurrent() {
    const id = state.current && state.current.id;
    for (const li of els.recent.children) {
      const button = li.querySelector("button");
      if (button) button.setAttribute("aria-current", li.dataset.id === id ? "true" : "false");
    }
  }

  /* ---------- start-up ---------- */

  async function loadHealth() {
    try {
      const response = await fetch("/healthz", { cache: "no-store" });
      const data = await readJson(response);
      if (data && typeof data.auth_required === "boolean") return data;
    } catch {
      /* handled below */
    }
    return null;
  }

  function requestIdFromHash() {
    const match = /^#request=([^&]+)$/.exec(location.hash);
    if (!match) return "";
    try {
      return decodeURIComponent(match[1]);
    } catch {
      return "";
    }
  }

  async function init() {
    try {
      els.apiKey.value = localStorage.getItem(KEY_STORAGE) || "";
    } catch {
      /* storage may be unavailable */
    }
    els.form.addEventListener("submit", onSubmit);
    els.clarifyForm.addEventListener("submit", onAnswer);
    els.cancel.addEventListener("click", onCancel);
    els.recentRefresh.addEventListener("click", () => refreshRecent());
    els.player.addEventListener("timeupdate", markCurrentChapter);
    els.apiKey.addEventListener("input", () => {
      els.apiKey.removeAttribute("aria-invalid");
      try {
        localStorage.setItem(KEY_STORAGE, apiKey());
      } catch {
        /* storage may be unavailable */
      }
    });
    els.apiKey.addEventListener("input", () => scheduleRecentRefresh(600));
    els.apiKey.addEventListener("change", () => scheduleRecentRefresh(0));

    const health = await loadHealth();
    state.authRequired = health ? health.auth_required : true;
    els.authWarning.hidden = state.authRequired;
    els.apiKeyField.hidden = !state.authRequired;
    document.body.dataset.auth = state.authRequired ? "required" : "off";
    if (!health) {
      showFormProblem("Cannot reach the service", "The health check failed. Reload the page to try again.");
    }
    document.body.dataset.ready = "true";

    refreshRecent();
    const fromHash = requestIdFromHash();
    if (fromHash) openExisting(fromHash);
  }

  init();
})();
