// Attachment upload with progress (XHR: fetch cannot report upload progress).
import { getToken, markExpired } from "@/lib/auth/session";
import { toApiError, type Attachment } from "@/lib/api/client";

export function uploadAttachment(ticketId: string, file: File, onProgress: (fraction: number) => void): Promise<Attachment> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/tickets/${encodeURIComponent(ticketId)}/attachments`);
    const token = getToken();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status === 401) markExpired();
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as Attachment);
      else reject(toApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new Error("The upload failed: check your connection."));
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
