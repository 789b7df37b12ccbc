// Routes: the public ones (sign-in callback, dev login) and everything else behind the session gate.
import { lazy, Suspense } from "react";
import { createBrowserRouter } from "react-router";
import { AuthCallback } from "@/features/auth";
import { SignedInApp } from "./App";

const DevLoginPage = lazy(() => import("@/features/auth/components/DevLoginPage").then((m) => ({ default: m.DevLoginPage })));

export const router = createBrowserRouter([
  { path: "/auth", element: <AuthCallback /> },
  { path: "/dev/login", element: <Suspense><DevLoginPage /></Suspense> },
  { path: "*", element: <SignedInApp /> },
]);
