import { type MeResponse, StoreId } from '@eta/contracts';
import { Button, MenuItem, Stack, TextField } from '@mui/material';
import { type FormEvent, useState } from 'react';
import { useT } from '../i18n/LocaleProvider.tsx';

export interface StorePickerProps {
  readonly me: MeResponse;
  readonly storeId: number | null;
  readonly onPick: (id: number) => void;
}

/** An owner picks one of their stores; an operator, who may open any store, types its id. */
export function StorePicker({ me, storeId, onPick }: StorePickerProps) {
  const t = useT();
  const [typed, setTyped] = useState(storeId === null ? '' : String(storeId));
  const [invalid, setInvalid] = useState(false);

  if (me.role === 'owner') {
    if (me.storeIds.length <= 1) return null;
    return (
      <TextField
        select
        size="small"
        label={t('picker.store')}
        value={storeId === null ? '' : String(storeId)}
        onChange={(e) => onPick(Number(e.target.value))}
        sx={{ minWidth: 140 }}
        slotProps={{ select: { SelectDisplayProps: { 'data-testid': 'store-select' } as object } }}
      >
        {me.storeIds.map((id) => (
          <MenuItem key={id} value={String(id)} data-testid={`store-option-${id}`}>
            {t('picker.storeOption', { id })}
          </MenuItem>
        ))}
      </TextField>
    );
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    const parsed = StoreId.safeParse(/^\d+$/.test(typed.trim()) ? Number(typed.trim()) : typed);
    if (!parsed.success) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    onPick(parsed.data);
  }

  return (
    <Stack
      component="form"
      direction="row"
      spacing={1}
      onSubmit={submit}
      noValidate
      sx={{ alignItems: 'flex-start' }}
    >
      <TextField
        size="small"
        label={t('picker.storeId')}
        value={typed}
        onChange={(e) => setTyped(e.target.value)}
        error={invalid}
        helperText={invalid ? t('picker.invalidId') : null}
        sx={{ width: 120 }}
        slotProps={{ htmlInput: { inputMode: 'numeric', 'data-testid': 'store-id-input' } }}
      />
      <Button type="submit" variant="outlined" data-testid="store-open">
        {t('picker.open')}
      </Button>
    </Stack>
  );
}
