"use strict";

/*
 * Plays a request's progressive HLS stream (fMP4 parts) while the rest of the video renders.
 *
 * Media Source Extensions: the playlist is fetched again every second; each new scene's init
 * section (when it changes) and media are appended to one SourceBuffer, with timestampOffset
 * set so the scene starts where the playlist places it. Once the playlist ends
 * (EXT-X-ENDLIST) the stream is ended. Where MSE cannot play it, a browser with native HLS
 * (video.canPlayType("application/vnd.apple.mpegurl")) is given the playlist itself.
 */
(() => {
  const POLL_MS = 1000;
  const AUDIO_CODEC = "mp4a.40.2"; // AAC-LC, what the service encodes

  function parsePlaylist(text, base) {
    const parts = [];
    let init = null;
    let duration = null;
    let start = 0;
    let ended = false;
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (!line) continue;
      if (line.startsWith("#EXT-X-MAP:")) {
        const match = /URI="([^"]*)"/.exec(line);
        if (match) init = new URL(match[1], base).href;
      } else if (line.startsWith("#EXTINF:")) {
        duration = parseFloat(line.slice(8));
      } else if (line === "#EXT-X-ENDLIST") {
        ended = true;
      } else if (!line.startsWith("#") && duration !== null) {
        parts.push({ uri: new URL(line, base).href, init, start, duration });
        start += duration;
        duration = null;
      }
    }
    return { parts, ended };
  }

  /* ---------- just enough of the MP4 boxes ---------- */

  function* boxes(view, start, end) {
    let pos = start;
    while (pos + 8 <= end) {
      let size = view.getUint32(pos);
      const type = String.fromCharCode(
        view.getUint8(pos + 4), view.getUint8(pos + 5), view.getUint8(pos + 6), view.getUint8(pos + 7),
      );
      let header = 8;
      if (size === 1) {
        size = Number(view.getBigUint64(pos + 8));
        header = 16;
      } else if (size === 0) {
        size = end - pos;
      }
      if (size < header || pos + size > end) return;
      yield { type, body: pos + header, end: pos + size };
      pos += size;
    }
  }

  function child(view, box, type) {
    for (const found of boxes(view, box.body, box.end)) if (found.type === type) return found;
    return null;
  }

  function initInfo(buffer) {
    // The H.264 profile and level from avcC, and each track's timescale (from mdhd).
    const view = new DataView(buffer);
    const bytes = new Uint8Array(buffer);
    let codec = "avc1.640029";
    for (let i = 4; i + 8 < bytes.length; i++) {
      if (bytes[i] === 0x61 && bytes[i + 1] === 0x76 && bytes[i + 2] === 0x63 && bytes[i + 3] === 0x43) {
        const hex = (b) => b.toString(16).padStart(2, "0");
        codec = `avc1.${hex(bytes[i + 5])}${hex(bytes[i + 6])}${hex(bytes[i + 7])}`;
        break;
      }
    }
    const timescales = new Map();
    const whole = { body: 0, end: buffer.byteLength };
    const moov = child(view, whole, "moov");
    for (const trak of moov ? boxes(view, moov.body, moov.end) : []) {
      if (trak.type !== "trak") continue;
      const tkhd = child(view, trak, "tkhd");
      const mdia = child(view, trak, "mdia");
      const mdhd = mdia && child(view, mdia, "mdhd");
      if (!tkhd || !mdhd) continue;
      const id = view.getUint32(tkhd.body + (view.getUint8(tkhd.body) === 1 ? 20 : 12));
      const scale = view.getUint32(mdhd.body + (view.getUint8(mdhd.body) === 1 ? 20 : 12));
      timescales.set(id, scale);
    }
    return { mime: `video/mp4; codecs="${codec}, ${AUDIO_CODEC}"`, timescales };
  }

  function firstDecodeTime(buffer, timescales) {
    // Seconds of the media's earliest tfdt (0 when it cannot be read).
    const view = new DataView(buffer);
    let earliest = Infinity;
    for (const moof of boxes(view, 0, buffer.byteLength)) {
      if (moof.type !== "moof") continue;
      for (const traf of boxes(view, moof.body, moof.end)) {
        if (traf.type !== "traf") continue;
        const tfhd = child(view, traf, "tfhd");
        const tfdt = child(view, traf, "tfdt");
        if (!tfhd || !tfdt) continue;
        const scale = timescales.get(view.getUint32(tfhd.body + 4));
        if (!scale) continue;
        const ticks = view.getUint8(tfdt.body) === 1
          ? Number(view.getBigUint64(tfdt.body + 4))
          : view.getUint32(tfdt.body + 4);
        earliest = Math.min(earliest, ticks / scale);
      }
      break;
    }
    return Number.isFinite(earliest) ? earliest : 0;
  }

  /* ---------- the player ---------- */

  class StreamPlayer {
    constructor(video, url) {
      this.video = video;
      this.url = new URL(url, window.location.href).href;
      this.controller = new AbortController();
      this.stopped = false;
      this.appended = 0;
      this.mode = "";
    }

    static mseSupported() {
      return Boolean(window.MediaSource && MediaSource.isTypeSupported(`video/mp4; codecs="avc1.640029, ${AUDIO_CODEC}"`));
    }

    start() {
      if (StreamPlayer.mseSupported()) {
        this.mode = "mse";
        this.run().catch((err) => {
          if (!this.stopped) console.warn("stream stopped:", err);
        });
        return true;
      }
      if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
        this.mode = "native";
        this.video.src = this.url;
        return true;
      }
      return false;
    }

    stop() {
      this.stopped = true;
      this.controller.abort();
      if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    }

    async fetchBytes(url) {
      const response = await fetch(url, { signal: this.controller.signal, cache: "no-store" });
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      return response.arrayBuffer();
    }

    append(buffer) {
      return new Promise((resolve, reject) => {
        const sb = this.buffer;
        const done = () => {
          sb.removeEventListener("updateend", done);
          sb.removeEventListener("error", failed);
          resolve();
        };
        const failed = () => {
          sb.removeEventListener("updateend", done);
          sb.removeEventListener("error", failed);
          reject(new Error("the browser refused a stream part"));
        };
        sb.addEventListener("updateend", done);
        sb.addEventListener("error", failed);
        sb.appendBuffer(buffer);
      });
    }

    async run() {
      const source = new MediaSource();
      this.objectUrl = URL.createObjectURL(source);
      this.video.src = this.objectUrl;
      await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
      let init = null;
      let info = null;
      while (!this.stopped) {
        const response = await fetch(this.url, { signal: this.controller.signal, cache: "no-store" });
        if (!response.ok && response.status !== 404) throw new Error(`playlist: ${response.status}`);
        const playlist = response.ok ? parsePlaylist(await response.text(), this.url) : { parts: [], ended: false };
        for (const part of playlist.parts.slice(this.appended)) {
          if (this.stopped) return;
          if (part.init !== init) {
            const bytes = await this.fetchBytes(part.init);
            info = initInfo(bytes);
            if (!this.buffer) {
              this.buffer = source.addSourceBuffer(info.mime);
            } else if (this.buffer.changeType) {
              this.buffer.changeType(info.mime);
            }
            await this.append(bytes);
            init = part.init;
          }
          const media = await this.fetchBytes(part.uri);
          // Place the scene where the playlist does, whatever times its media carry.
          this.buffer.timestampOffset = part.start - firstDecodeTime(media, info.timescales);
          await this.append(media);
          this.appended += 1;
          this.video.dispatchEvent(new CustomEvent("streamscene", { detail: { scenes: this.appended } }));
        }
        if (playlist.ended && this.appended === playlist.parts.length) {
          if (source.readyState === "open") source.endOfStream();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
  }

  window.VividlyStream = { StreamPlayer, parsePlaylist, initInfo, firstDecodeTime };
})();
