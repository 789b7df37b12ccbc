// The admin console's routes under /admin. Loaded on demand for admins only, so no admin code (nor
// CodeMirror or uPlot) is in the bundle members download.
import { Navigate, useRoutes } from "react-router";
import { AdminLayout } from "@/features/admin-layout";
import { TemplateEditorPage, TemplatesPage } from "@/features/admin-templates";
import { EmailDetailPage, EmailsPage } from "@/features/admin-emails";
import { DeliveryPage } from "@/features/admin-delivery";
import { SuppressionsPage } from "@/features/admin-suppressions";
import { InboundPage } from "@/features/admin-inbound";
import { NotFound } from "./NotFound";

export default function AdminRoutes() {
  return useRoutes([
    {
      element: <AdminLayout />,
      children: [
        { index: true, element: <Navigate to="/admin/templates" replace /> },
        { path: "templates", element: <TemplatesPage /> },
        { path: "templates/:name", element: <TemplateEditorPage /> },
        { path: "emails", element: <EmailsPage /> },
        { path: "emails/:id", element: <EmailDetailPage /> },
        { path: "inbound", element: <InboundPage /> },
        { path: "delivery", element: <DeliveryPage /> },
        { path: "suppressions", element: <SuppressionsPage /> },
        { path: "*", element: <NotFound /> },
      ],
    },
  ]);
}
