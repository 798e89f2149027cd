// Sharing (API.md "Sharing"): the caller, invitations, shares, bundles (sg_…) and groups (grp_…).

import { api } from "./http";
import type {
  Bundle,
  Group,
  GroupShare,
  Invitation,
  InvitationPreview,
  Me,
  NewInvitation,
  Page,
  Permissions,
  Share,
  ShareChange,
} from "./types";

const enc = encodeURIComponent;

export const getMe = () => api().get<Me>("/api/me");

// ---- invitations
export const createInvitation = (invitation: NewInvitation) => api().post<Invitation>("/api/invitations", invitation);
export const listInvitations = () => api().get<Page<Invitation>>("/api/invitations");
export const revokeInvitation = (invitationId: string) => api().delete(`/api/invitations/${enc(invitationId)}`);
export const inspectInvitation = (token: string) => api().post<InvitationPreview>("/api/invitations/inspect", { token });
export const acceptInvitation = (token: string) => api().post<{ shares: Share[] }>("/api/invitations/accept", { token });

// ---- shares
export const listShares = (as: "owner" | "recipient") => api().get<Page<Share>>(`/api/shares?as=${as}`);
export const updateShare = (shareId: string, change: ShareChange) => api().patch<Share>(`/api/shares/${enc(shareId)}`, change);
export const deleteShare = (shareId: string) => api().delete(`/api/shares/${enc(shareId)}`);

// ---- bundles
export const createBundle = (name: string, strategyIds: string[], permissions: Permissions) =>
  api().post<Bundle>("/api/bundles", { name, strategyIds, permissions });
export const listBundles = () => api().get<Page<Bundle>>("/api/bundles");
export const getBundle = (bundleId: string) => api().get<Bundle>(`/api/bundles/${enc(bundleId)}`);
export const deleteBundle = (bundleId: string) => api().delete(`/api/bundles/${enc(bundleId)}`);
export const addBundleStrategy = (bundleId: string, strategyId: string) =>
  api().put<Bundle>(`/api/bundles/${enc(bundleId)}/strategies/${enc(strategyId)}`);
export const removeBundleStrategy = (bundleId: string, strategyId: string) =>
  api().delete(`/api/bundles/${enc(bundleId)}/strategies/${enc(strategyId)}`);
export const removeBundleMember = (bundleId: string, userId: string) =>
  api().delete(`/api/bundles/${enc(bundleId)}/members/${enc(userId)}`);

// ---- groups
export const createGroup = (name: string) => api().post<Group>("/api/groups", { name });
export const listGroups = () => api().get<Page<Group>>("/api/groups");
export const getGroup = (groupId: string) => api().get<Group>(`/api/groups/${enc(groupId)}`);
export const deleteGroup = (groupId: string) => api().delete(`/api/groups/${enc(groupId)}`);
export const addGroupMember = (groupId: string, email: string) => api().put<Group>(`/api/groups/${enc(groupId)}/members`, { email });
export const removeGroupMember = (groupId: string, userId: string) =>
  api().delete(`/api/groups/${enc(groupId)}/members/${enc(userId)}`);
export interface NewGroupShare {
  strategyId?: string;
  bundleId?: string;
  permissions: Permissions;
  expiresAt?: string;
}
export const createGroupShare = (groupId: string, share: NewGroupShare) =>
  api().post<GroupShare>(`/api/groups/${enc(groupId)}/shares`, share);
export const deleteGroupShare = (groupId: string, groupShareId: string) =>
  api().delete(`/api/groups/${enc(groupId)}/shares/${enc(groupShareId)}`);
