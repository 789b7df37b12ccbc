// Sign-in: the /auth callback, the signed-out screen, the dev login page, and who is signed in.
export { AuthCallback } from "./components/AuthCallback";
export { SignedOutScreen } from "./components/SignedOutScreen";
export { OfflineScreen } from "./components/OfflineScreen";
export { useMe, useWebConfig, type Me } from "./api/session";
