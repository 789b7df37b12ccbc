// Unknown routes, and admin routes for people who are not admins.
import { Link } from "react-router";
import { Compass, ShieldAlert } from "lucide-react";
import { EmptyState } from "@/components/EmptyState";

export function NotFound({ forbidden = false }: { forbidden?: boolean }) {
  return (
    <EmptyState
      className="flex-1"
      icon={forbidden ? <ShieldAlert className="h-8 w-8" /> : <Compass className="h-8 w-8" />}
      title={forbidden ? "You do not have access to this page" : "Page not found"}
      action={<Link to="/tickets" className="text-sm font-medium text-accent hover:underline">Go to your tickets</Link>}
    >
      {forbidden ? "This part of the app is for administrators." : "The link may be broken, or the page may have moved."}
    </EmptyState>
  );
}
